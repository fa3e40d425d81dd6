variable "name" {
  type        = string
  description = "Prefix of every resource name, <project>-<environment>."
}

variable "kms_key_arn" {
  type        = string
  description = "The CMK of the alarm topic (its key policy lets CloudWatch publish)."
}

variable "alert_emails" {
  type        = list(string)
  description = "Addresses subscribed to the alarm topic (each confirms by mail)."
  default     = []
}

variable "stream_name" {
  type        = string
  description = "The Kinesis stream."
}

variable "iterator_age_threshold_ms" {
  type        = number
  description = "Alarm when bronze is this far behind the stream (ms)."
  default     = 600000
}

variable "metrics_namespace" {
  type        = string
  description = "The CloudWatch namespace the pipeline sends GoldFreshnessSeconds to (LAKEHOUSE_METRICS_NAMESPACE)."
}

variable "freshness_report_seconds" {
  type        = number
  description = "How often the pipeline sends GoldFreshnessSeconds: 60 from the streaming job, 3600 from the hourly DAG's report_lag."
  validation {
    condition     = var.freshness_report_seconds >= 60 && var.freshness_report_seconds % 60 == 0
    error_message = "A whole number of minutes."
  }
}

variable "freshness_threshold_seconds" {
  type        = number
  description = "Alarm when published gold is older than this: the design's one hour."
  default     = 3600
  validation {
    condition     = var.freshness_threshold_seconds > 0 && var.freshness_threshold_seconds <= 3600
    error_message = "At most 3600 s: the design promises gold within one hour."
  }
}

variable "spark_application_id" {
  type        = string
  description = "The EMR Serverless application."
}

variable "airflow_environment_name" {
  type        = string
  description = "The MWAA environment."
}

variable "hourly_dag_id" {
  type        = string
  description = "The hourly DAG whose failed runs alarm."
  default     = "merchant_insights_hourly"
}

variable "api_id" {
  type        = string
  description = "The HTTP API."
}

variable "api_stage" {
  type        = string
  description = "The HTTP API's stage."
}

variable "api_5xx_threshold" {
  type        = number
  description = "5xx answers in 5 minutes above which to alarm."
  default     = 10
}

variable "api_p99_latency_ms" {
  type        = number
  description = "p99 latency (ms) above which to alarm."
  default     = 1000
}

variable "ecs_cluster_name" {
  type        = string
  description = "The ECS cluster of the API, portal and Trino."
}

variable "ecs_services" {
  type        = map(number)
  description = "ECS service name => the running tasks below which to alarm."
}

variable "opensearch_domain_name" {
  type        = string
  description = "The OpenSearch domain."
}

variable "opensearch_min_free_storage_mb" {
  type        = number
  description = "Alarm when a node's free storage falls below this (MB)."
}

variable "influxdb_instance_name" {
  type        = string
  description = "The Timestream for InfluxDB instance."
}

variable "influxdb_cpu_threshold_percent" {
  type        = number
  description = "InfluxDB CPU above which to alarm."
  default     = 80
}
