# The stores gold is published to and the portal reads: Timestream for InfluxDB (time series) and an OpenSearch
# domain (product search). Both private, in the VPC, reachable only from inside it.
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

resource "aws_security_group" "influxdb" {
  #checkov:skip=CKV2_AWS_5:attached to the Timestream for InfluxDB instance (vpc_security_group_ids), a resource type the check does not know
  name        = "${var.name}-influxdb"
  description = "Timestream for InfluxDB: its API from inside the VPC"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "influxdb" {
  security_group_id = aws_security_group.influxdb.id
  description       = "InfluxDB API (HTTPS) from the VPC"
  cidr_ipv4         = var.vpc_cidr
  ip_protocol       = "tcp"
  from_port         = var.influxdb_port
  to_port           = var.influxdb_port
}

# Timestream for InfluxDB runs InfluxDB 2; the jobs and the portal speak its v1-compatible API (a database and a
# user with a password), which the bootstrap step maps onto the bucket below (`influx v1 dbrp create`,
# `influx v1 auth create` for the pipeline and reader logins).
resource "aws_timestreaminfluxdb_db_instance" "this" {
  name                   = "${var.name}-influxdb"
  db_instance_type       = var.influxdb_instance_type
  db_storage_type        = var.influxdb_storage_type
  allocated_storage      = var.influxdb_storage_gb
  deployment_type        = var.influxdb_multi_az ? "WITH_MULTIAZ_STANDBY" : "SINGLE_AZ"
  publicly_accessible    = false
  port                   = var.influxdb_port
  organization           = "merchant-insights"
  bucket                 = var.influxdb_database
  username               = var.influxdb_admin_user
  password               = var.influxdb_admin_password
  vpc_subnet_ids         = var.influxdb_multi_az ? slice(var.subnet_ids, 0, 2) : [var.subnet_ids[0]]
  vpc_security_group_ids = [aws_security_group.influxdb.id]
}

resource "aws_security_group" "opensearch" {
  name        = "${var.name}-opensearch"
  description = "OpenSearch: HTTPS from inside the VPC"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "opensearch" {
  security_group_id = aws_security_group.opensearch.id
  description       = "OpenSearch REST API from the VPC"
  cidr_ipv4         = var.vpc_cidr
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

locals {
  # OpenSearch takes domain names of 28 characters at most: "merchant-insights-prod-search" would be 29.
  domain_name = "${var.name}-os"
  # Audit and slow logs, and the engine's own errors, each to a log group of its own.
  opensearch_logs = ["AUDIT_LOGS", "INDEX_SLOW_LOGS", "SEARCH_SLOW_LOGS", "ES_APPLICATION_LOGS"]
  data_node_azs   = var.opensearch_zone_count
}

resource "aws_cloudwatch_log_group" "opensearch" {
  for_each = toset(local.opensearch_logs)

  name              = "/aws/opensearch/${local.domain_name}/${lower(each.key)}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn
}

data "aws_iam_policy_document" "opensearch_logs" {
  statement {
    actions   = ["logs:PutLogEvents", "logs:CreateLogStream"]
    resources = [for group in aws_cloudwatch_log_group.opensearch : "${group.arn}:*"]
    principals {
      type        = "Service"
      identifiers = ["es.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_cloudwatch_log_resource_policy" "opensearch" {
  policy_name     = "${local.domain_name}-logs"
  policy_document = data.aws_iam_policy_document.opensearch_logs.json
}

# The domain is reachable only from the VPC; who may do what inside it is decided by fine-grained access control
# (its internal users: the pipeline writes, the portal reads), so the resource policy admits any caller that gets
# that far. The jobs and the portal log in with HTTP basic authentication, which FGAC's internal users take.
data "aws_iam_policy_document" "opensearch_access" {
  #checkov:skip=CKV_AWS_283:the domain is reachable only inside the VPC and fine-grained access control authenticates every request (HTTP basic, internal users); an IAM principal here would refuse those unsigned requests
  statement {
    actions   = ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut", "es:ESHttpDelete", "es:ESHttpPatch"]
    resources = ["arn:aws:es:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:domain/${local.domain_name}/*"]
    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
  }
}

resource "aws_opensearch_domain" "this" {
  #checkov:skip=CKV_AWS_318:prod runs three dedicated masters (opensearch_dedicated_masters); dev's single node has no cluster state to protect
  #checkov:skip=CKV2_AWS_59:as above: dedicated masters in prod, none in dev's single-node domain
  domain_name     = local.domain_name
  engine_version  = var.opensearch_engine_version
  access_policies = data.aws_iam_policy_document.opensearch_access.json

  cluster_config {
    instance_type          = var.opensearch_instance_type
    instance_count         = var.opensearch_instance_count
    zone_awareness_enabled = local.data_node_azs > 1
    dynamic "zone_awareness_config" {
      for_each = local.data_node_azs > 1 ? [1] : []
      content {
        availability_zone_count = local.data_node_azs
      }
    }
    dedicated_master_enabled = var.opensearch_dedicated_masters
    dedicated_master_type    = var.opensearch_dedicated_masters ? var.opensearch_master_instance_type : null
    dedicated_master_count   = var.opensearch_dedicated_masters ? 3 : null
  }

  ebs_options {
    ebs_enabled = true
    volume_type = "gp3"
    volume_size = var.opensearch_volume_gb
  }

  vpc_options {
    subnet_ids         = slice(var.subnet_ids, 0, local.data_node_azs)
    security_group_ids = [aws_security_group.opensearch.id]
  }

  encrypt_at_rest {
    enabled    = true
    kms_key_id = var.kms_key_arn
  }

  node_to_node_encryption {
    enabled = true
  }

  domain_endpoint_options {
    enforce_https       = true
    tls_security_policy = "Policy-Min-TLS-1-2-PFS-2023-10"
  }

  advanced_security_options {
    enabled                        = true
    internal_user_database_enabled = true
    master_user_options {
      master_user_name     = var.opensearch_master_user
      master_user_password = var.opensearch_master_password
    }
  }

  log_publishing_options {
    log_type                 = "AUDIT_LOGS"
    enabled                  = true
    cloudwatch_log_group_arn = aws_cloudwatch_log_group.opensearch["AUDIT_LOGS"].arn
  }

  log_publishing_options {
    log_type                 = "INDEX_SLOW_LOGS"
    enabled                  = true
    cloudwatch_log_group_arn = aws_cloudwatch_log_group.opensearch["INDEX_SLOW_LOGS"].arn
  }

  log_publishing_options {
    log_type                 = "SEARCH_SLOW_LOGS"
    enabled                  = true
    cloudwatch_log_group_arn = aws_cloudwatch_log_group.opensearch["SEARCH_SLOW_LOGS"].arn
  }

  log_publishing_options {
    log_type                 = "ES_APPLICATION_LOGS"
    enabled                  = true
    cloudwatch_log_group_arn = aws_cloudwatch_log_group.opensearch["ES_APPLICATION_LOGS"].arn
  }

  depends_on = [aws_cloudwatch_log_resource_policy.opensearch]

  lifecycle {
    precondition {
      condition     = length(local.domain_name) <= 28
      error_message = "OpenSearch domain names are at most 28 characters: shorten the project or environment name."
    }
  }
}
