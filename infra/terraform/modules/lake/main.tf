# The lakehouse's buckets: the Delta warehouse, the stream checkpoints, the artifacts (job code, jars, DAGs,
# Airflow's requirements), and one bucket for access logs.
data "aws_caller_identity" "current" {}
data "aws_elb_service_account" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id

  # Bucket names are global: the account id keeps them unique. MWAA takes its DAGs only from a bucket whose name
  # starts with "airflow-", hence the artifacts bucket's prefix.
  data_buckets = {
    lake        = "${var.name}-lake-${local.account_id}"
    checkpoints = "${var.name}-checkpoints-${local.account_id}"
    artifacts   = "airflow-${var.name}-artifacts-${local.account_id}"
  }
}

resource "aws_s3_bucket" "data" {
  #checkov:skip=CKV_AWS_144:one-region deployment: S3 stores every object across several zones of the region; a second region is a disaster-recovery decision beyond this stack
  #checkov:skip=CKV2_AWS_62:nothing reacts to new objects: the jobs follow the Delta logs and the stream, not bucket events
  for_each = local.data_buckets

  bucket        = each.value
  force_destroy = var.force_destroy
}

resource "aws_s3_bucket_server_side_encryption_configuration" "data" {
  for_each = local.data_buckets

  bucket = aws_s3_bucket.data[each.key].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = true # an S3 Bucket Key cuts the KMS calls (and their cost) of Delta's many small files
  }
}

resource "aws_s3_bucket_versioning" "data" {
  for_each = local.data_buckets

  bucket = aws_s3_bucket.data[each.key].id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_public_access_block" "data" {
  for_each = local.data_buckets

  bucket                  = aws_s3_bucket.data[each.key].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

data "aws_iam_policy_document" "tls_only" {
  for_each = local.data_buckets

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.data[each.key].arn, "${aws_s3_bucket.data[each.key].arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "data" {
  for_each = local.data_buckets

  bucket = aws_s3_bucket.data[each.key].id
  policy = data.aws_iam_policy_document.tls_only[each.key].json

  depends_on = [aws_s3_bucket_public_access_block.data]
}

resource "aws_s3_bucket_logging" "data" {
  for_each = local.data_buckets

  bucket        = aws_s3_bucket.data[each.key].id
  target_bucket = aws_s3_bucket.logs.id
  target_prefix = "s3/${each.key}/"
}

resource "aws_s3_bucket_lifecycle_configuration" "data" {
  for_each = local.data_buckets

  bucket = aws_s3_bucket.data[each.key].id

  # Bronze is never rewritten and rarely read once silver has it (only by a backfill): older files move to cheaper
  # classes that still answer at once, so a backfill needs no restore.
  dynamic "rule" {
    for_each = each.key == "lake" ? [1] : []
    content {
      id     = "bronze-to-cheaper-classes"
      status = "Enabled"
      filter {
        prefix = "warehouse/bronze/"
      }
      transition {
        days          = var.bronze_infrequent_access_days
        storage_class = "STANDARD_IA"
      }
      transition {
        days          = var.bronze_glacier_ir_days
        storage_class = "GLACIER_IR"
      }
      abort_incomplete_multipart_upload {
        days_after_initiation = 7
      }
    }
  }

  # Versioning keeps what Delta's VACUUM and the checkpoints' cleanup delete; a bounded recovery window is enough.
  rule {
    id     = "expire-noncurrent-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.data]
}

# Access logs of the buckets above and of the load balancers. S3 server access logging and ALB access logs can only
# write to a bucket encrypted with S3-managed keys (SSE-S3), not with a KMS key: this one bucket is AES256.
resource "aws_s3_bucket" "logs" {
  #checkov:skip=CKV_AWS_145:S3 server access logs and ALB access logs can only be delivered to an SSE-S3 bucket
  #checkov:skip=CKV_AWS_18:this is the access-log bucket; logging its own accesses into itself would loop
  #checkov:skip=CKV_AWS_144:logs are kept in one region; replicating them elsewhere is not a requirement
  #checkov:skip=CKV2_AWS_62:nothing reacts to new log objects; they are read on demand
  bucket        = "${var.name}-logs-${local.account_id}"
  force_destroy = var.force_destroy
}

resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_versioning" "logs" {
  bucket = aws_s3_bucket.logs.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_public_access_block" "logs" {
  bucket                  = aws_s3_bucket.logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

data "aws_iam_policy_document" "logs" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.logs.arn, "${aws_s3_bucket.logs.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  statement {
    sid       = "S3ServerAccessLogs"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.logs.arn}/s3/*"]
    principals {
      type        = "Service"
      identifiers = ["logging.s3.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  statement {
    sid       = "LoadBalancerAccessLogs"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.logs.arn}/alb/AWSLogs/${local.account_id}/*"]
    principals {
      type        = "AWS"
      identifiers = [data.aws_elb_service_account.current.arn]
    }
  }
}

resource "aws_s3_bucket_policy" "logs" {
  bucket = aws_s3_bucket.logs.id
  policy = data.aws_iam_policy_document.logs.json

  depends_on = [aws_s3_bucket_public_access_block.logs]
}

resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id

  rule {
    id     = "expire-logs"
    status = "Enabled"
    filter {}
    expiration {
      days = var.access_log_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 7
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.logs]
}
