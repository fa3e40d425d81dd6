# The Glue Data Catalog databases: Trino's metastore (infra/trino/*.properties) and Athena's. Trino's schemas are
# the Glue databases' names, so they are exactly the layers' names; `lakehouse trino-register` registers the tables.
# Glue names are per account and region: run each environment in an account of its own.
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  catalog_arn = "arn:aws:glue:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:catalog"
}

resource "aws_glue_catalog_database" "layer" {
  for_each = toset(var.databases)

  name         = each.key
  description  = "Merchant Insights ${each.key} tables (Delta Lake)"
  location_uri = "s3://${var.lake_bucket_name}/warehouse/${each.key}"
}

# One setting per account and region, shared by every catalog user of the account.
resource "aws_glue_data_catalog_encryption_settings" "this" {
  count = var.manage_catalog_encryption ? 1 : 0

  data_catalog_encryption_settings {
    encryption_at_rest {
      catalog_encryption_mode = "SSE-KMS"
      sse_aws_kms_key_id      = var.kms_key_arn
    }
    connection_password_encryption {
      return_connection_password_encrypted = true
      aws_kms_key_id                       = var.kms_key_arn
    }
  }
}
