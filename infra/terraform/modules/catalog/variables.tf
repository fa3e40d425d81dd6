variable "databases" {
  type        = list(string)
  description = "Glue databases, one per layer (Trino schemas): bronze, silver, gold and ops."
  default     = ["bronze", "silver", "gold", "ops"]
}

variable "lake_bucket_name" {
  type        = string
  description = "The lake bucket; each database's location is s3://<bucket>/warehouse/<database>."
}

variable "kms_key_arn" {
  type        = string
  description = "The CMK that encrypts the catalog's metadata and connection passwords."
}

variable "manage_catalog_encryption" {
  type        = bool
  description = "Manage the account-wide Glue catalog encryption setting here (false if another stack owns it)."
  default     = true
}
