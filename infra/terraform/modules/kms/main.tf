# One customer-managed key per kind of data, so that a role allowed to read one (say the stream) cannot decrypt
# another (say the secrets) by accident.
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.region

  keys = {
    data    = "the lake, checkpoints and artifacts buckets, the Delta log store table, the Glue catalog, SSM"
    stream  = "the Kinesis event stream"
    secrets = "the Secrets Manager secrets"
    logs    = "CloudWatch Logs groups, the alarm topic and the MWAA environment"
    serving = "OpenSearch, the API keys' EFS file system and the ECR repositories"
  }

  # The account's administrators manage and use every key through IAM; AWS services that encrypt on their own
  # behalf (CloudWatch Logs, CloudWatch alarms publishing to the encrypted topic) are named in the key policy,
  # because they act without an IAM role of ours.
  key_admin_actions = [
    "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*", "kms:Revoke*",
    "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource", "kms:UntagResource", "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion", "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
    "kms:CreateGrant",
  ]
  account_statement = {
    Sid       = "AccountAdministration"
    Effect    = "Allow"
    Principal = { AWS = "arn:aws:iam::${local.account_id}:root" }
    Action    = local.key_admin_actions
    Resource  = "*"
  }
  log_service_statements = [
    {
      Sid       = "CloudWatchLogs"
      Effect    = "Allow"
      Principal = { Service = "logs.${local.region}.amazonaws.com" }
      Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
      Resource  = "*"
      Condition = {
        ArnLike = { "kms:EncryptionContext:aws:logs:arn" = "arn:aws:logs:${local.region}:${local.account_id}:log-group:*" }
      }
    },
    {
      Sid       = "CloudWatchAlarmsToEncryptedTopic"
      Effect    = "Allow"
      Principal = { Service = "cloudwatch.amazonaws.com" }
      Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
      Resource  = "*"
    },
  ]
}

resource "aws_kms_key" "this" {
  for_each = local.keys

  description             = "${var.name} ${each.key}: ${each.value}"
  enable_key_rotation     = true
  deletion_window_in_days = var.deletion_window_days
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = concat([local.account_statement], each.key == "logs" ? local.log_service_statements : [])
  })
}

resource "aws_kms_alias" "this" {
  for_each = local.keys

  name          = "alias/${var.name}-${each.key}"
  target_key_id = aws_kms_key.this[each.key].key_id
}
