# The Spark jobs on EMR Serverless: one application, one least-privilege job role, and each job's StartJobRun
# parameters. Terraform cannot start job runs, so the parameters are published (outputs, and SSM parameters that
# Airflow reads as variables through its SSM secrets backend) for the DAG and the operators to start them.
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  region               = data.aws_region.current.region
  artifacts            = var.bucket_names["artifacts"]
  default_database_arn = replace(var.catalog_arn, ":catalog", ":database/default")
}

resource "aws_security_group" "spark" {
  #checkov:skip=CKV2_AWS_5:attached to the EMR Serverless application's network_configuration, a resource type the check does not know
  name        = "${var.name}-spark"
  description = "EMR Serverless workers: out to the VPC endpoints, S3, DynamoDB and the sinks only"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_egress_rule" "spark_https_vpc" {
  security_group_id = aws_security_group.spark.id
  description       = "Interface endpoints and OpenSearch"
  cidr_ipv4         = var.vpc_cidr
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_egress_rule" "spark_influxdb" {
  security_group_id = aws_security_group.spark.id
  description       = "Timestream for InfluxDB"
  cidr_ipv4         = var.vpc_cidr
  ip_protocol       = "tcp"
  from_port         = var.influxdb_port
  to_port           = var.influxdb_port
}

resource "aws_vpc_security_group_egress_rule" "spark_gateways" {
  for_each = toset(var.gateway_prefix_list_ids)

  security_group_id = aws_security_group.spark.id
  description       = "S3 and DynamoDB through their gateway endpoints"
  prefix_list_id    = each.key
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

# Spark's driver and executors talk to each other inside the application.
resource "aws_vpc_security_group_egress_rule" "spark_self" {
  security_group_id            = aws_security_group.spark.id
  description                  = "Driver and executors"
  referenced_security_group_id = aws_security_group.spark.id
  ip_protocol                  = "-1"
}

resource "aws_vpc_security_group_ingress_rule" "spark_self" {
  security_group_id            = aws_security_group.spark.id
  description                  = "Driver and executors"
  referenced_security_group_id = aws_security_group.spark.id
  ip_protocol                  = "-1"
}

resource "aws_emrserverless_application" "spark" {
  name          = "${var.name}-spark"
  release_label = var.release_label
  type          = "spark"

  # Pre-initialized workers start a job in seconds instead of minutes; they are billed while the application is
  # started, which it always is in prod (the streaming job runs continuously).
  dynamic "initial_capacity" {
    for_each = { for role, count in { Driver = 1, Executor = var.initial_executors } : role => count if var.initial_executors > 0 }
    content {
      initial_capacity_type = initial_capacity.key
      initial_capacity_config {
        worker_count = initial_capacity.value
        worker_configuration {
          cpu    = "${var.worker_vcpu} vCPU"
          memory = "${var.worker_memory_gb} GB"
        }
      }
    }
  }

  maximum_capacity {
    cpu    = "${var.max_vcpu} vCPU"
    memory = "${var.max_memory_gb} GB"
  }

  auto_start_configuration {
    enabled = true
  }

  auto_stop_configuration {
    enabled              = true
    idle_timeout_minutes = var.idle_timeout_minutes
  }

  network_configuration {
    subnet_ids         = var.subnet_ids
    security_group_ids = [aws_security_group.spark.id]
  }
}

# The job role: exactly the buckets, stream, tables, keys and secrets the jobs use.
data "aws_iam_policy_document" "job_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["emr-serverless.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

data "aws_iam_policy_document" "job" {
  statement {
    sid       = "ListTheBuckets"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [for key in ["lake", "checkpoints", "artifacts"] : var.bucket_arns[key]]
  }

  statement {
    sid       = "ReadWriteTablesAndCheckpoints"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = ["${var.bucket_arns["lake"]}/*", "${var.bucket_arns["checkpoints"]}/*"]
  }

  statement {
    sid       = "ReadJobCode"
    actions   = ["s3:GetObject"]
    resources = ["${var.bucket_arns["artifacts"]}/*"]
  }

  statement {
    sid       = "WriteJobLogs"
    actions   = ["s3:PutObject"]
    resources = ["${var.bucket_arns["artifacts"]}/emr-serverless-logs/*"]
  }

  statement {
    sid = "ReadTheStream"
    actions = [
      "kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:ListShards",
      "kinesis:GetShardIterator", "kinesis:GetRecords",
    ]
    resources = [var.stream_arn]
  }

  statement {
    sid = "GlueCatalog"
    actions = [
      "glue:GetDatabase", "glue:GetDatabases", "glue:GetTable", "glue:GetTables", "glue:GetPartitions",
      "glue:CreateTable", "glue:UpdateTable",
    ]
    resources = concat([var.catalog_arn], var.database_arns, [for tables in var.table_arns : "${tables}/*"])
  }

  # With Glue as Spark's metastore (EMR Serverless's default), the session catalog looks up the `default` database
  # when it starts (and creates it if the account has none), and a delta.`<path>` table is first looked up as
  # database `delta`: a refused lookup fails the statement where a missing database falls back to the path.
  statement {
    sid       = "GlueSessionCatalogLookups"
    actions   = ["glue:GetDatabase"]
    resources = [var.catalog_arn, local.default_database_arn, replace(local.default_database_arn, "/default", "/delta")]
  }

  statement {
    sid       = "GlueDefaultDatabase"
    actions   = ["glue:CreateDatabase"]
    resources = [var.catalog_arn, local.default_database_arn]
  }

  statement {
    sid       = "DeltaLogStore"
    actions   = ["dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"]
    resources = [var.log_store_table_arn]
  }

  statement {
    sid       = "UseTheKeys"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    resources = var.kms_key_arns
  }

  statement {
    sid       = "SinkPasswords"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = values(var.password_secret_arns)
  }

  # PutMetricData has no resource to name; the condition keeps the role to the pipeline's own namespace.
  statement {
    sid       = "FreshnessMetric"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = [var.metrics_namespace]
    }
  }
}

resource "aws_iam_role" "job" {
  name               = "${var.name}-spark-job"
  assume_role_policy = data.aws_iam_policy_document.job_assume.json
}

resource "aws_iam_role_policy" "job" {
  role   = aws_iam_role.job.id
  policy = data.aws_iam_policy_document.job.json
}

locals {
  # Every job is configured by the same LAKEHOUSE_* variables (docs/configuration.md), on the driver and on the
  # executors (the Kinesis source and the sinks' writers run in executors' Python workers).
  environment = {
    LAKEHOUSE_WAREHOUSE         = "s3a://${var.bucket_names["lake"]}/warehouse"
    LAKEHOUSE_CHECKPOINTS       = "s3a://${var.bucket_names["checkpoints"]}/checkpoints"
    LAKEHOUSE_SOURCE            = "kinesis:${var.stream_name}"
    LAKEHOUSE_SINKS             = join(",", var.sinks)
    LAKEHOUSE_INFLUXDB_URL      = var.influxdb_url
    LAKEHOUSE_INFLUXDB_DATABASE = var.influxdb_database
    LAKEHOUSE_INFLUXDB_USER     = var.influxdb_user
    LAKEHOUSE_OPENSEARCH_URL    = var.opensearch_url
    LAKEHOUSE_OPENSEARCH_USER   = var.opensearch_user
    LAKEHOUSE_OPENSEARCH_PREFIX = var.opensearch_prefix
    LAKEHOUSE_METRICS_NAMESPACE = var.metrics_namespace
    # EMR Serverless starts the driver with its own master and the --jars below: the session keeps them
    # (jobs/runtime/session.py).
    LAKEHOUSE_MASTER = "spark-submit"
    LAKEHOUSE_JARS   = "spark-submit"
    LAKEHOUSE_S3_REGION         = local.region
    AWS_REGION                  = local.region
    # The project's venv, unpacked from --archives below: the jobs' Python dependencies.
    PYSPARK_PYTHON = "./environment/bin/python"
  }
  # EMR Serverless resolves EMR.secret@<name> from Secrets Manager when the job starts: no password in the job
  # run's parameters, the SSM parameters, the Terraform outputs or the Spark UI.
  secret_environment = {
    LAKEHOUSE_INFLUXDB_PASSWORD   = "EMR.secret@${var.password_secret_names["influxdb"]}"
    LAKEHOUSE_OPENSEARCH_PASSWORD = "EMR.secret@${var.password_secret_names["opensearch"]}"
  }
  job_environment = merge(local.environment, local.secret_environment)

  spark_properties = merge(
    var.log_store_spark_conf,
    { for key, value in local.job_environment : "spark.emr-serverless.driverEnv.${key}" => value },
    { for key, value in local.job_environment : "spark.executorEnv.${key}" => value },
  )

  # The repository's jobs/ package as a zip, its pinned Python packages as a packed venv, and the jars of pom.xml
  # (Delta, hadoop-aws with its SDK modules, the DynamoDB log store, the event validator): built by the release
  # step and copied under the artifacts bucket.
  spark_submit_parameters = join(" ", [
    "--py-files s3://${local.artifacts}/jobs/jobs.zip",
    "--archives s3://${local.artifacts}/envs/lakehouse-venv.tar.gz#environment",
    "--jars ${join(",", [for jar in var.jar_files : "s3://${local.artifacts}/jars/${jar}"])}",
  ])

  # entry point (jobs/<file>.py) and its fixed arguments; the DAG appends per-run ones (--date, --hour, ...).
  jobs = {
    streaming   = { file = "pipeline", arguments = ["--trigger", var.streaming_trigger] }
    bronze      = { file = "bronze", arguments = [] }
    silver      = { file = "silver", arguments = [] }
    gold        = { file = "gold", arguments = [] }
    publish     = { file = "publish", arguments = [] }
    hour_checks = { file = "hour_checks", arguments = [] }
    lag         = { file = "lag", arguments = [] }
    maintain    = { file = "maintain", arguments = [] }
    backfill    = { file = "backfill", arguments = [] }
  }

  job_runs = {
    for job, spec in local.jobs : job => {
      name             = "${var.name}-${job}"
      applicationId    = aws_emrserverless_application.spark.id
      executionRoleArn = aws_iam_role.job.arn
      jobDriver = {
        sparkSubmit = {
          entryPoint            = "s3://${local.artifacts}/jobs/${spec.file}.py"
          entryPointArguments   = spec.arguments
          sparkSubmitParameters = local.spark_submit_parameters
        }
      }
      configurationOverrides = {
        applicationConfiguration = [{ classification = "spark-defaults", properties = local.spark_properties }]
        monitoringConfiguration = {
          s3MonitoringConfiguration = {
            logUri           = "s3://${local.artifacts}/emr-serverless-logs/"
            encryptionKeyArn = var.artifacts_kms_key_arn
          }
        }
      }
    }
  }
}

# Read by the DAG as Airflow variables emr_job_<job> (MWAA's SSM secrets backend, variables prefix below). They hold
# no secret: passwords are EMR.secret@ references.
resource "aws_ssm_parameter" "job_run" {
  #checkov:skip=CKV2_AWS_34:no secret inside (passwords are EMR.secret@ references); a SecureString would only add a KMS decrypt to every DAG parse
  for_each = local.job_runs

  name        = "${var.airflow_variables_prefix}/emr_job_${each.key}"
  description = "StartJobRun parameters of the ${each.key} job"
  type        = "String"
  tier        = "Intelligent-Tiering" # standard up to 4 KB, advanced above
  value       = jsonencode(each.value)
}
