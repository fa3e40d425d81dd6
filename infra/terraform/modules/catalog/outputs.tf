output "database_names" {
  description = "The Glue databases."
  value       = [for database in aws_glue_catalog_database.layer : database.name]
}

output "database_arns" {
  description = "ARNs of the Glue databases, for IAM policies."
  value       = [for database in aws_glue_catalog_database.layer : database.arn]
}

output "table_arns" {
  description = "ARN patterns of the tables in the Glue databases, for IAM policies."
  value       = [for database in aws_glue_catalog_database.layer : replace(database.arn, ":database/", ":table/")]
}

output "kms_key_arn" {
  description = "The CMK the catalog's metadata is encrypted with: its readers need Decrypt, its writers Encrypt too."
  value       = var.kms_key_arn
}

output "catalog_arn" {
  description = "ARN of the account's Glue Data Catalog (every Glue call names it too)."
  value       = local.catalog_arn
}
