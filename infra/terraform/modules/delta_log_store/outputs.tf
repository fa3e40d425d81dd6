output "table_name" {
  description = "The DynamoDB table of Delta's commits."
  value       = aws_dynamodb_table.delta_log.name
}

output "table_arn" {
  description = "The table's ARN, for the job role's policy."
  value       = aws_dynamodb_table.delta_log.arn
}

output "spark_conf" {
  description = "Spark settings that make Delta commit s3a:// tables through the DynamoDB log store."
  value       = local.spark_conf
}

output "package" {
  description = "Maven coordinate of the log store's jar, to ship with Delta's jars."
  value       = "io.delta:delta-storage-s3-dynamodb:${var.delta_version}"
}
