variable "name" {
  type        = string
  description = "Prefix of every resource name, <project>-<environment>."
}

variable "release_label" {
  type        = string
  description = "EMR Serverless release. The jobs need Spark 4 with Scala 2.13 (pyspark 4.1, delta-spark_4.1 4.4.0): emr-7.x ships Spark 3.5, emr-spark-8.0.0 Spark 4.0."
  validation {
    condition     = can(regex("^emr-(spark-)?\\d+\\.\\d+\\.\\d+$", var.release_label))
    error_message = "A release label such as emr-spark-8.0.0 or emr-7.12.0."
  }
}

variable "vpc_id" {
  type        = string
  description = "The VPC the workers run in."
}

variable "vpc_cidr" {
  type        = string
  description = "The VPC's address range (endpoints and sinks are inside it)."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets for the workers."
}

variable "gateway_prefix_list_ids" {
  type        = list(string)
  description = "Prefix lists of the S3 and DynamoDB gateway endpoints."
}

variable "worker_vcpu" {
  type        = number
  description = "vCPUs of a pre-initialized worker (1, 2, 4, 8 or 16)."
  default     = 4
  validation {
    condition     = contains([1, 2, 4, 8, 16], var.worker_vcpu)
    error_message = "1, 2, 4, 8 or 16."
  }
}

variable "worker_memory_gb" {
  type        = number
  description = "Memory of a pre-initialized worker, GB (2 to 8 per vCPU)."
  default     = 16
}

variable "initial_executors" {
  type        = number
  description = "Pre-initialized executors (plus one driver); 0 for none (dev: pay only while jobs run)."
  validation {
    condition     = var.initial_executors >= 0
    error_message = "0 or more."
  }
}

variable "max_vcpu" {
  type        = number
  description = "Most vCPUs all running jobs may hold together (the backfill's ceiling)."
}

variable "max_memory_gb" {
  type        = number
  description = "Most memory all running jobs may hold together, GB."
}

variable "idle_timeout_minutes" {
  type        = number
  description = "Minutes without a job after which the application stops (and its pre-initialized workers go)."
  default     = 15
}

variable "bucket_names" {
  type        = map(string)
  description = "The lake module's bucket names: lake, checkpoints, artifacts."
}

variable "bucket_arns" {
  type        = map(string)
  description = "The lake module's bucket ARNs: lake, checkpoints, artifacts."
}

variable "stream_name" {
  type        = string
  description = "The Kinesis stream bronze reads."
}

variable "stream_arn" {
  type        = string
  description = "The Kinesis stream's ARN."
}

variable "catalog_arn" {
  type        = string
  description = "The account's Glue Data Catalog ARN."
}

variable "database_arns" {
  type        = list(string)
  description = "The Glue databases' ARNs."
}

variable "table_arns" {
  type        = list(string)
  description = "ARN prefixes of the Glue databases' tables (…:table/<database>)."
}

variable "log_store_table_arn" {
  type        = string
  description = "The Delta log store's DynamoDB table."
}

variable "log_store_spark_conf" {
  type        = map(string)
  description = "Spark settings of the Delta DynamoDB log store."
}

variable "kms_key_arns" {
  type        = list(string)
  description = "The CMKs of the buckets, the stream, the log store table and the secrets the jobs use."
}

variable "artifacts_kms_key_arn" {
  type        = string
  description = "The CMK the job logs are encrypted with in the artifacts bucket."
}

variable "password_secret_arns" {
  type        = map(string)
  description = "Secrets of the sinks' pipeline logins by sink: influxdb, opensearch."
}

variable "password_secret_names" {
  type        = map(string)
  description = "Names of the same secrets, for EMR.secret@<name>."
}

variable "sinks" {
  type        = list(string)
  description = "LAKEHOUSE_SINKS: where gold is published."
  default     = ["influxdb", "opensearch"]
  validation {
    condition     = alltrue([for sink in var.sinks : contains(["influxdb", "opensearch"], sink)])
    error_message = "influxdb and/or opensearch."
  }
}

variable "influxdb_url" {
  type        = string
  description = "LAKEHOUSE_INFLUXDB_URL."
}

variable "influxdb_port" {
  type        = number
  description = "InfluxDB's port, for the egress rule."
  default     = 8086
}

variable "influxdb_database" {
  type        = string
  description = "LAKEHOUSE_INFLUXDB_DATABASE."
}

variable "influxdb_user" {
  type        = string
  description = "LAKEHOUSE_INFLUXDB_USER: the pipeline's InfluxDB login."
}

variable "opensearch_url" {
  type        = string
  description = "LAKEHOUSE_OPENSEARCH_URL."
}

variable "opensearch_user" {
  type        = string
  description = "LAKEHOUSE_OPENSEARCH_USER: the pipeline's OpenSearch login."
}

variable "opensearch_prefix" {
  type        = string
  description = "LAKEHOUSE_OPENSEARCH_PREFIX: the indices' alias prefix."
  default     = "merchant-insights"
}

variable "metrics_namespace" {
  type        = string
  description = "LAKEHOUSE_METRICS_NAMESPACE: the CloudWatch namespace of the pipeline's freshness metric."
}

variable "jar_files" {
  type        = list(string)
  description = "Jar file names under s3://<artifacts>/jars/ that every job puts on its classpath."
}

variable "streaming_trigger" {
  type        = string
  description = "The continuous job's micro-batch interval (`lakehouse run --trigger`)."
  default     = "60 seconds"
  validation {
    condition     = can(regex("^\\d+ seconds$", var.streaming_trigger))
    error_message = "'<n> seconds'."
  }
}

variable "airflow_variables_prefix" {
  type        = string
  description = "SSM path under which Airflow finds its variables (the orchestration module's secrets backend)."
}
