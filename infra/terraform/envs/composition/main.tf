# One environment of Merchant Insights. envs/dev and envs/prod link these files (one composition, written once) and
# differ only in their terraform.tfvars; run terraform in envs/<env>, never here.
provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project     = var.project
      Environment = var.environment
      ManagedBy   = "terraform"
      Repository  = "merchant-insights/infra/terraform"
    }
  }
}

locals {
  name = "${var.project}-${var.environment}"
  # Where the hourly DAG's Airflow variables (each job's StartJobRun parameters) live in SSM.
  airflow_variables_prefix = "/${local.name}/airflow/variables"
}

module "kms" {
  source = "../../modules/kms"

  name = local.name
}

module "network" {
  source = "../../modules/network"

  name               = local.name
  cidr_block         = var.vpc_cidr
  az_count           = var.az_count
  log_retention_days = var.log_retention_days
  logs_kms_key_arn   = module.kms.key_arns["logs"]
}

module "stream" {
  source = "../../modules/stream"

  name                   = local.name
  stream_mode            = var.stream_mode
  peak_events_per_second = var.peak_events_per_second
  event_size_bytes       = var.event_size_bytes
  shard_headroom         = var.shard_headroom
  kms_key_arn            = module.kms.key_arns["stream"]
}

module "lake" {
  source = "../../modules/lake"

  name          = local.name
  kms_key_arn   = module.kms.key_arns["data"]
  force_destroy = var.force_destroy_buckets
}

module "catalog" {
  source = "../../modules/catalog"

  lake_bucket_name = module.lake.bucket_names["lake"]
  kms_key_arn      = module.kms.key_arns["data"]
}

module "delta_log_store" {
  source = "../../modules/delta_log_store"

  name                = local.name
  kms_key_arn         = module.kms.key_arns["data"]
  delta_version       = var.delta_version
  deletion_protection = var.deletion_protection
}

module "secrets" {
  source = "../../modules/secrets"

  name                 = local.name
  kms_key_arn          = module.kms.key_arns["secrets"]
  recovery_window_days = var.secret_recovery_window_days
}

module "serving" {
  source = "../../modules/serving"

  name                         = local.name
  vpc_id                       = module.network.vpc_id
  vpc_cidr                     = module.network.cidr_block
  subnet_ids                   = module.network.private_subnet_ids
  influxdb_instance_type       = var.influxdb_instance_type
  influxdb_storage_gb          = var.influxdb_storage_gb
  influxdb_multi_az            = var.influxdb_multi_az
  influxdb_admin_password      = module.secrets.influxdb_admin_password
  opensearch_instance_type     = var.opensearch_instance_type
  opensearch_instance_count    = var.opensearch_instance_count
  opensearch_zone_count        = var.opensearch_zone_count
  opensearch_dedicated_masters = var.opensearch_dedicated_masters
  opensearch_volume_gb         = var.opensearch_volume_gb
  opensearch_master_user       = module.secrets.users["opensearch-master"]
  opensearch_master_password   = module.secrets.opensearch_master_password
  kms_key_arn                  = module.kms.key_arns["serving"]
  logs_kms_key_arn             = module.kms.key_arns["logs"]
  log_retention_days           = var.log_retention_days
}

module "spark" {
  source = "../../modules/spark"

  name                    = local.name
  release_label           = var.emr_release_label
  vpc_id                  = module.network.vpc_id
  vpc_cidr                = module.network.cidr_block
  subnet_ids              = module.network.private_subnet_ids
  gateway_prefix_list_ids = module.network.gateway_prefix_list_ids
  initial_executors       = var.emr_initial_executors
  max_vcpu                = var.emr_max_vcpu
  max_memory_gb           = var.emr_max_memory_gb
  bucket_names            = module.lake.bucket_names
  bucket_arns             = module.lake.bucket_arns
  stream_name             = module.stream.stream_name
  stream_arn              = module.stream.stream_arn
  catalog_arn             = module.catalog.catalog_arn
  database_arns           = module.catalog.database_arns
  table_arns              = module.catalog.table_arns
  log_store_table_arn     = module.delta_log_store.table_arn
  log_store_spark_conf    = module.delta_log_store.spark_conf
  kms_key_arns            = [module.kms.key_arns["data"], module.kms.key_arns["stream"], module.kms.key_arns["secrets"]]
  artifacts_kms_key_arn   = module.kms.key_arns["data"]
  password_secret_arns    = {
    influxdb   = module.secrets.secret_arns["influxdb-pipeline"]
    opensearch = module.secrets.secret_arns["opensearch-pipeline"]
  }
  password_secret_names = {
    influxdb   = module.secrets.secret_names["influxdb-pipeline"]
    opensearch = module.secrets.secret_names["opensearch-pipeline"]
  }
  influxdb_url             = module.serving.influxdb_url
  influxdb_port            = module.serving.influxdb_port
  influxdb_database        = module.serving.influxdb_database
  influxdb_user            = module.secrets.users["influxdb-pipeline"]
  opensearch_url           = module.serving.opensearch_url
  opensearch_user          = module.secrets.users["opensearch-pipeline"]
  metrics_namespace        = var.metrics_namespace
  jar_files                = var.spark_jar_files
  airflow_variables_prefix = local.airflow_variables_prefix
}

module "orchestration" {
  source = "../../modules/orchestration"

  name                    = local.name
  airflow_version         = var.airflow_version
  environment_class       = var.mwaa_environment_class
  min_workers             = var.mwaa_min_workers
  max_workers             = var.mwaa_max_workers
  vpc_id                  = module.network.vpc_id
  vpc_cidr                = module.network.cidr_block
  subnet_ids              = module.network.private_subnet_ids
  gateway_prefix_list_ids = module.network.gateway_prefix_list_ids
  artifacts_bucket_name   = module.lake.bucket_names["artifacts"]
  artifacts_bucket_arn    = module.lake.bucket_arns["artifacts"]
  artifacts_kms_key_arn   = module.kms.key_arns["data"]
  kms_key_arn             = module.kms.key_arns["logs"]
  spark_application_arn   = module.spark.application_arn
  spark_job_role_arn      = module.spark.job_role_arn
  variables_prefix        = local.airflow_variables_prefix
  dag_environment = {
    LAKEHOUSE_WAREHOUSE       = module.lake.warehouse_uri
    LAKEHOUSE_SINKS           = "influxdb,opensearch"
    LAKEHOUSE_DAGS_START_DATE = var.dags_start_date
    LAKEHOUSE_JOBS_DIR        = "s3://${module.lake.bucket_names["artifacts"]}/jobs"
    # The streaming job drains the stages: the hourly run then only checks the hour and maintains the tables.
    LAKEHOUSE_STREAMING = var.streaming ? "1" : "0"
  }
}

module "api" {
  source = "../../modules/api"

  name                        = local.name
  vpc_id                      = module.network.vpc_id
  vpc_cidr                    = module.network.cidr_block
  subnet_ids                  = module.network.private_subnet_ids
  gateway_prefix_list_ids     = module.network.gateway_prefix_list_ids
  image_tag                   = var.app_image_tag
  ingest_min_tasks            = var.ingest_min_tasks
  ingest_max_tasks            = var.ingest_max_tasks
  portal_min_tasks            = var.portal_min_tasks
  portal_max_tasks            = var.portal_max_tasks
  requests_per_task_target    = var.requests_per_task_target
  stream_name                 = module.stream.stream_name
  stream_arn                  = module.stream.stream_arn
  stream_kms_key_arn          = module.kms.key_arns["stream"]
  influxdb_url                = module.serving.influxdb_url
  influxdb_port               = module.serving.influxdb_port
  influxdb_database           = module.serving.influxdb_database
  influxdb_user               = module.secrets.users["influxdb-portal"]
  opensearch_url              = module.serving.opensearch_url
  opensearch_user             = module.secrets.users["opensearch-portal"]
  portal_password_secret_arns = {
    influxdb   = module.secrets.secret_arns["influxdb-portal"]
    opensearch = module.secrets.secret_arns["opensearch-portal"]
  }
  secrets_kms_key_arn        = module.kms.key_arns["secrets"]
  kms_key_arn                = module.kms.key_arns["serving"]
  logs_kms_key_arn           = module.kms.key_arns["logs"]
  log_retention_days         = var.log_retention_days
  access_logs_bucket         = module.lake.logs_bucket_name
  certificate_arn            = var.api_certificate_arn
  api_domain_name            = var.api_domain_name
  deletion_protection        = var.deletion_protection
  throttle_burst_limit       = var.api_throttle_burst_limit
  throttle_rate_limit        = var.api_throttle_rate_limit
  waf_requests_per_5_minutes = var.waf_requests_per_5_minutes
}

module "trino" {
  source = "../../modules/trino"

  name                     = local.name
  vpc_id                   = module.network.vpc_id
  vpc_cidr                 = module.network.cidr_block
  subnet_ids               = module.network.private_subnet_ids
  gateway_prefix_list_ids  = module.network.gateway_prefix_list_ids
  cluster_arn              = module.api.cluster_arn
  cluster_name             = module.api.cluster_name
  image_tag                = var.trino_image_tag
  worker_cpu               = var.trino_worker_cpu
  worker_memory            = var.trino_worker_memory
  min_workers              = var.trino_min_workers
  max_workers              = var.trino_max_workers
  lake_bucket_name         = module.lake.bucket_names["lake"]
  lake_bucket_arn          = module.lake.bucket_arns["lake"]
  lake_kms_key_arn         = module.kms.key_arns["data"]
  catalog_kms_key_arn      = module.catalog.kms_key_arn
  catalog_arn              = module.catalog.catalog_arn
  database_arns            = module.catalog.database_arns
  table_arns               = module.catalog.table_arns
  password_file_secret_arn = module.secrets.secret_arns["trino-password-file"]
  shared_secret_arn        = module.secrets.secret_arns["trino-shared-secret"]
  secrets_kms_key_arn      = module.kms.key_arns["secrets"]
  kms_key_arn              = module.kms.key_arns["serving"]
  logs_kms_key_arn         = module.kms.key_arns["logs"]
  log_retention_days       = var.log_retention_days
  access_logs_bucket       = module.lake.logs_bucket_name
  certificate_arn          = var.trino_certificate_arn
  deletion_protection      = var.deletion_protection
}

module "monitoring" {
  source = "../../modules/monitoring"

  name                           = local.name
  kms_key_arn                    = module.kms.key_arns["logs"]
  alert_emails                   = var.alert_emails
  stream_name                    = module.stream.stream_name
  metrics_namespace              = var.metrics_namespace
  freshness_report_seconds       = var.streaming ? 60 : 3600
  spark_application_id           = module.spark.application_id
  airflow_environment_name       = module.orchestration.environment_name
  api_id                         = module.api.api_id
  api_stage                      = module.api.stage_name
  ecs_cluster_name               = module.api.cluster_name
  ecs_services                   = merge(module.api.service_min_tasks, module.trino.service_min_tasks)
  opensearch_domain_name         = module.serving.opensearch_domain_name
  opensearch_min_free_storage_mb = var.opensearch_volume_gb * 1024 / 5 # alarm at 20% free
  influxdb_instance_name         = module.serving.influxdb_instance_name
}
