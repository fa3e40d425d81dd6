# Airflow (MWAA), private in the VPC. Its DAGs, requirements and startup script live in the artifacts bucket; the
# DAG reads each job's StartJobRun parameters as Airflow variables from SSM and starts the runs on EMR Serverless.
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  account_id      = data.aws_caller_identity.current.account_id
  region          = data.aws_region.current.region
  environment     = "${var.name}-airflow"
  environment_arn = "arn:aws:airflow:${local.region}:${local.account_id}:environment/${local.environment}"
  repository      = "${path.module}/../../../.."

  # The DAG file reads LAKEHOUSE_* at parse time (docs/configuration.md#airflow): MWAA sets environment variables
  # only through a startup script.
  startup_script = join("\n", concat(
    ["#!/bin/sh", "# Written by Terraform (infra/terraform/modules/orchestration): the DAG's settings."],
    [for key, value in var.dag_environment : "export ${key}='${value}'"],
  ))
}

resource "aws_s3_object" "dag" {
  bucket      = var.artifacts_bucket_name
  key         = "dags/merchant_insights.py"
  source      = "${local.repository}/dags/merchant_insights.py"
  source_hash = filemd5("${local.repository}/dags/merchant_insights.py")
}

resource "aws_s3_object" "requirements" {
  bucket      = var.artifacts_bucket_name
  key         = "requirements/requirements-airflow.txt"
  source      = "${local.repository}/requirements-airflow.txt"
  source_hash = filemd5("${local.repository}/requirements-airflow.txt")
}

resource "aws_s3_object" "startup" {
  bucket  = var.artifacts_bucket_name
  key     = "startup/startup.sh"
  content = local.startup_script
}

resource "aws_security_group" "airflow" {
  name        = local.environment
  description = "MWAA: its own components, the VPC endpoints and the S3 gateway"
  vpc_id      = var.vpc_id
}

# MWAA's scheduler, workers, web server and its service-managed endpoints share this group and reach each other.
resource "aws_vpc_security_group_ingress_rule" "airflow_self" {
  security_group_id            = aws_security_group.airflow.id
  description                  = "MWAA components"
  referenced_security_group_id = aws_security_group.airflow.id
  ip_protocol                  = "-1"
}

resource "aws_vpc_security_group_ingress_rule" "airflow_web" {
  security_group_id = aws_security_group.airflow.id
  description       = "Airflow UI from the VPC (private web server)"
  cidr_ipv4         = var.vpc_cidr
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_egress_rule" "airflow_self" {
  security_group_id            = aws_security_group.airflow.id
  description                  = "MWAA components (its metadata database included)"
  referenced_security_group_id = aws_security_group.airflow.id
  ip_protocol                  = "-1"
}

resource "aws_vpc_security_group_egress_rule" "airflow_https_vpc" {
  security_group_id = aws_security_group.airflow.id
  description       = "Interface endpoints"
  cidr_ipv4         = var.vpc_cidr
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_egress_rule" "airflow_gateways" {
  for_each = toset(var.gateway_prefix_list_ids)

  security_group_id = aws_security_group.airflow.id
  description       = "S3 through its gateway endpoint"
  prefix_list_id    = each.key
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

data "aws_iam_policy_document" "airflow_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["airflow.amazonaws.com", "airflow-env.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

# What AWS documents for an MWAA execution role, narrowed to this environment, plus starting the Spark jobs.
data "aws_iam_policy_document" "airflow" {
  statement {
    sid       = "PublishMetrics"
    actions   = ["airflow:PublishMetrics"]
    resources = [local.environment_arn]
  }

  statement {
    sid       = "ReadDagsAndRequirements"
    actions   = ["s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket", "s3:GetBucketLocation", "s3:GetBucketPublicAccessBlock"]
    resources = [var.artifacts_bucket_arn, "${var.artifacts_bucket_arn}/*"]
  }

  statement {
    sid       = "CheckAccountPublicAccessBlock"
    actions   = ["s3:GetAccountPublicAccessBlock"]
    resources = ["*"] # an account-level setting: it has no resource ARN
  }

  statement {
    sid = "OwnLogs"
    actions = [
      "logs:CreateLogStream", "logs:CreateLogGroup", "logs:PutLogEvents", "logs:GetLogEvents",
      "logs:GetLogRecord", "logs:GetLogGroupFields", "logs:GetQueryResults", "logs:DescribeLogGroups",
    ]
    resources = ["arn:aws:logs:${local.region}:${local.account_id}:log-group:airflow-${local.environment}-*"]
  }

  statement {
    sid       = "OwnMetrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"] # PutMetricData has no resource ARN; the condition keeps it to MWAA's namespace
    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = ["AmazonMWAA"]
    }
  }

  statement {
    sid = "CeleryQueue"
    actions = [
      "sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl",
      "sqs:ReceiveMessage", "sqs:SendMessage",
    ]
    # MWAA's Celery queue lives in an account of the service's, whose id is not known in advance.
    resources = ["arn:aws:sqs:${local.region}:*:airflow-celery-*"]
  }

  statement {
    sid       = "EnvironmentKey"
    actions   = ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey*", "kms:Encrypt"]
    resources = [var.kms_key_arn]
    condition {
      test     = "StringLike"
      variable = "kms:ViaService"
      values   = ["sqs.${local.region}.amazonaws.com", "s3.${local.region}.amazonaws.com"]
    }
  }

  statement {
    sid       = "ArtifactsKey"
    actions   = ["kms:Decrypt", "kms:DescribeKey"]
    resources = [var.artifacts_kms_key_arn]
  }

  statement {
    sid       = "AirflowVariablesFromSsm"
    actions   = ["ssm:GetParameter", "ssm:GetParameters"]
    resources = ["arn:aws:ssm:${local.region}:${local.account_id}:parameter${var.variables_prefix}/*"]
  }

  statement {
    sid = "RunSparkJobs"
    actions = [
      "emr-serverless:StartJobRun", "emr-serverless:GetJobRun", "emr-serverless:CancelJobRun",
      "emr-serverless:GetApplication", "emr-serverless:StartApplication", "emr-serverless:GetDashboardForJobRun",
    ]
    resources = [var.spark_application_arn, "${var.spark_application_arn}/jobruns/*"]
  }

  statement {
    sid       = "PassTheJobRole"
    actions   = ["iam:PassRole"]
    resources = [var.spark_job_role_arn]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["emr-serverless.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "airflow" {
  name               = "${local.environment}-execution"
  assume_role_policy = data.aws_iam_policy_document.airflow_assume.json
}

resource "aws_iam_role_policy" "airflow" {
  role   = aws_iam_role.airflow.id
  policy = data.aws_iam_policy_document.airflow.json
}

resource "aws_mwaa_environment" "this" {
  name               = local.environment
  airflow_version    = var.airflow_version
  environment_class  = var.environment_class
  min_workers        = var.min_workers
  max_workers        = var.max_workers
  execution_role_arn = aws_iam_role.airflow.arn
  kms_key            = var.kms_key_arn

  source_bucket_arn              = var.artifacts_bucket_arn
  dag_s3_path                    = "dags/"
  requirements_s3_path           = aws_s3_object.requirements.key
  requirements_s3_object_version = aws_s3_object.requirements.version_id
  startup_script_s3_path         = aws_s3_object.startup.key
  startup_script_s3_object_version = aws_s3_object.startup.version_id

  webserver_access_mode = "PRIVATE_ONLY"

  network_configuration {
    # MWAA takes exactly two private subnets in different zones.
    subnet_ids         = slice(var.subnet_ids, 0, 2)
    security_group_ids = [aws_security_group.airflow.id]
  }

  airflow_configuration_options = {
    "core.default_timezone" = "utc"
    # Airflow variables come from SSM under this prefix: the spark module writes the job runs there.
    "secrets.backend"        = "airflow.providers.amazon.aws.secrets.systems_manager.SystemsManagerParameterStoreBackend"
    "secrets.backend_kwargs" = jsonencode({ variables_prefix = var.variables_prefix, connections_prefix = null })
  }

  logging_configuration {
    dag_processing_logs {
      enabled   = true
      log_level = var.log_level
    }
    scheduler_logs {
      enabled   = true
      log_level = var.log_level
    }
    task_logs {
      enabled   = true
      log_level = var.log_level
    }
    webserver_logs {
      enabled   = true
      log_level = var.log_level
    }
    worker_logs {
      enabled   = true
      log_level = var.log_level
    }
  }

  depends_on = [aws_s3_object.dag, aws_iam_role_policy.airflow]
}
