variable "project" {
  type        = string
  description = "Project name, the first part of every resource name."
  default     = "merchant-insights"
}

variable "environment" {
  type        = string
  description = "Environment name: dev or prod."
  validation {
    condition     = contains(["dev", "prod"], var.environment)
    error_message = "dev or prod."
  }
}

variable "region" {
  type        = string
  description = "AWS region of the whole deployment."
}

variable "vpc_cidr" {
  type        = string
  description = "The VPC's address range."
}

variable "az_count" {
  type        = number
  description = "Availability zones used (prod: 3 for 99.9%)."
}

variable "log_retention_days" {
  type        = number
  description = "Days every CloudWatch Logs group keeps its logs."
  default     = 365
  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "One of CloudWatch Logs' retention periods."
  }
}

variable "deletion_protection" {
  type        = bool
  description = "Protect the stateful resources (load balancers, the log store table) from deletion."
}

variable "force_destroy_buckets" {
  type        = bool
  description = "Let destroy empty and delete the buckets (dev only)."
  default     = false
}

variable "secret_recovery_window_days" {
  type        = number
  description = "Days a deleted secret can be restored (0: at once, dev only)."
  default     = 30
}

variable "stream_mode" {
  type        = string
  description = "Kinesis capacity mode: ON_DEMAND or PROVISIONED."
}

variable "peak_events_per_second" {
  type        = number
  description = "Peak event rate the stream is sized for."
}

variable "event_size_bytes" {
  type        = number
  description = "Planned size of one event record, bytes."
}

variable "shard_headroom" {
  type        = number
  description = "Provisioned shards' factor over the peak."
  default     = 1.5
}

variable "delta_version" {
  type        = string
  description = "Delta Lake version of the jobs (pom.xml's delta.version)."
}

variable "emr_release_label" {
  type        = string
  description = "EMR Serverless release label."
}

variable "emr_initial_executors" {
  type        = number
  description = "Pre-initialized EMR Serverless executors (0: none)."
}

variable "emr_max_vcpu" {
  type        = number
  description = "EMR Serverless application's vCPU ceiling."
}

variable "emr_max_memory_gb" {
  type        = number
  description = "EMR Serverless application's memory ceiling, GB."
}

variable "spark_jar_files" {
  type        = list(string)
  description = "Jars under s3://<artifacts>/jars/ on every job's classpath (what Maven resolves from pom.xml)."
}

variable "metrics_namespace" {
  type        = string
  description = "CloudWatch namespace of the pipeline's own metrics (LAKEHOUSE_METRICS_NAMESPACE)."
  default     = "MerchantInsights"
}

variable "airflow_version" {
  type        = string
  description = "MWAA Airflow version."
}

variable "mwaa_environment_class" {
  type        = string
  description = "MWAA environment class."
}

variable "mwaa_min_workers" {
  type        = number
  description = "MWAA workers always running."
}

variable "mwaa_max_workers" {
  type        = number
  description = "MWAA workers at most."
}

variable "streaming" {
  type        = bool
  description = "Whether the streaming job (lakehouse run --trigger) drains the stages; the hourly DAG then only checks and maintains (LAKEHOUSE_STREAMING)."
}

variable "dags_start_date" {
  type        = string
  description = "LAKEHOUSE_DAGS_START_DATE: the first hour the hourly DAG runs for (the deployment day)."
  validation {
    condition     = can(regex("^\\d{4}-\\d{2}-\\d{2}$", var.dags_start_date))
    error_message = "A date, YYYY-MM-DD."
  }
}

variable "influxdb_instance_type" {
  type        = string
  description = "Timestream for InfluxDB instance type."
}

variable "influxdb_storage_gb" {
  type        = number
  description = "InfluxDB storage, GiB."
}

variable "influxdb_multi_az" {
  type        = bool
  description = "InfluxDB with a standby in a second zone."
}

variable "opensearch_instance_type" {
  type        = string
  description = "OpenSearch data node type."
}

variable "opensearch_instance_count" {
  type        = number
  description = "OpenSearch data nodes."
}

variable "opensearch_zone_count" {
  type        = number
  description = "Zones the OpenSearch data nodes spread over."
}

variable "opensearch_dedicated_masters" {
  type        = bool
  description = "Three dedicated OpenSearch masters."
}

variable "opensearch_volume_gb" {
  type        = number
  description = "EBS volume per OpenSearch data node, GiB."
}

variable "app_image_tag" {
  type        = string
  description = "Tag of the lakehouse image the API and portal run."
}

variable "ingest_min_tasks" {
  type        = number
  description = "Ingestion API tasks at least."
}

variable "ingest_max_tasks" {
  type        = number
  description = "Ingestion API tasks at most."
}

variable "portal_min_tasks" {
  type        = number
  description = "Portal tasks at least."
}

variable "portal_max_tasks" {
  type        = number
  description = "Portal tasks at most."
}

variable "requests_per_task_target" {
  type        = number
  description = "ALB requests per task per minute the API services scale to keep."
}

variable "api_throttle_burst_limit" {
  type        = number
  description = "API Gateway burst limit."
}

variable "api_throttle_rate_limit" {
  type        = number
  description = "API Gateway steady rate limit, requests a second."
}

variable "waf_requests_per_5_minutes" {
  type        = number
  description = "WAF rate limit per client address, requests per 5 minutes."
}

variable "api_certificate_arn" {
  type        = string
  description = "ACM certificate of the API's internal ALB."
}

variable "api_domain_name" {
  type        = string
  description = "Name on the API ALB's certificate."
}

variable "trino_image_tag" {
  type        = string
  description = "Tag of the Trino image."
}

variable "trino_worker_cpu" {
  type        = number
  description = "CPU units of a Trino worker."
}

variable "trino_worker_memory" {
  type        = number
  description = "Memory of a Trino worker, MiB."
}

variable "trino_min_workers" {
  type        = number
  description = "Trino workers at least."
}

variable "trino_max_workers" {
  type        = number
  description = "Trino workers at most."
}

variable "trino_certificate_arn" {
  type        = string
  description = "ACM certificate of Trino's internal ALB."
}

variable "alert_emails" {
  type        = list(string)
  description = "Addresses that receive the alarms."
  default     = []
}
