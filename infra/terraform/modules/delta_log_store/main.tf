# Delta's multi-writer log store on S3 (docs/s3.md): each table's commits are claimed in DynamoDB with a conditional
# put, so two drivers committing the same version of a table cannot both win. Without it only one driver may write
# a table at a time.
resource "aws_dynamodb_table" "delta_log" {
  name         = "${var.name}-delta-log"
  billing_mode = "PAY_PER_REQUEST" # a few writes per commit: on-demand costs cents and never throttles a burst
  hash_key     = "tablePath"
  range_key    = "fileName"

  attribute {
    name = "tablePath"
    type = "S"
  }

  attribute {
    name = "fileName"
    type = "S"
  }

  # Delta sets expireTime once a commit is complete in S3: DynamoDB drops the entry later (Delta's own advice).
  ttl {
    attribute_name = "expireTime"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  deletion_protection_enabled = var.deletion_protection
}

data "aws_region" "current" {}

locals {
  spark_conf = {
    "spark.delta.logStore.s3a.impl"                          = "io.delta.storage.S3DynamoDBLogStore"
    "spark.io.delta.storage.S3DynamoDBLogStore.ddb.tableName" = aws_dynamodb_table.delta_log.name
    "spark.io.delta.storage.S3DynamoDBLogStore.ddb.region"    = data.aws_region.current.region
  }
}
