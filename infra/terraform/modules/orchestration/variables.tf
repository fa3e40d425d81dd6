variable "name" {
  type        = string
  description = "Prefix of every resource name, <project>-<environment>."
}

variable "airflow_version" {
  type        = string
  description = "MWAA's Airflow version (the DAG is written for Airflow 3)."
  validation {
    condition     = can(regex("^3\\.\\d+\\.\\d+$", var.airflow_version))
    error_message = "An Airflow 3 version such as 3.0.6."
  }
}

variable "environment_class" {
  type        = string
  description = "MWAA environment class (mw1.micro, mw1.small, mw1.medium, mw1.large, ...)."
  validation {
    condition     = can(regex("^mw1\\.", var.environment_class))
    error_message = "An mw1.* class."
  }
}

variable "min_workers" {
  type        = number
  description = "Workers always running."
}

variable "max_workers" {
  type        = number
  description = "Workers MWAA may scale up to (a backfill's parallel tasks)."
}

variable "log_level" {
  type        = string
  description = "Level of the Airflow logs sent to CloudWatch."
  default     = "INFO"
  validation {
    condition     = contains(["CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"], var.log_level)
    error_message = "CRITICAL, ERROR, WARNING, INFO or DEBUG."
  }
}

variable "vpc_id" {
  type        = string
  description = "The VPC the environment runs in."
}

variable "vpc_cidr" {
  type        = string
  description = "The VPC's address range."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets; MWAA uses the first two."
}

variable "gateway_prefix_list_ids" {
  type        = list(string)
  description = "Prefix lists of the S3 and DynamoDB gateway endpoints."
}

variable "artifacts_bucket_name" {
  type        = string
  description = "The artifacts bucket (its name starts with airflow-, as MWAA requires)."
}

variable "artifacts_bucket_arn" {
  type        = string
  description = "The artifacts bucket's ARN."
}

variable "artifacts_kms_key_arn" {
  type        = string
  description = "The CMK of the artifacts bucket."
}

variable "kms_key_arn" {
  type        = string
  description = "The CMK of the environment (its logs, queue and metadata)."
}

variable "spark_application_arn" {
  type        = string
  description = "The EMR Serverless application the DAG starts jobs on."
}

variable "spark_job_role_arn" {
  type        = string
  description = "The job runs' execution role, which Airflow passes to EMR Serverless."
}

variable "variables_prefix" {
  type        = string
  description = "SSM path of the Airflow variables (starts with /)."
  validation {
    condition     = startswith(var.variables_prefix, "/")
    error_message = "An SSM path starting with /."
  }
}

variable "dag_environment" {
  type        = map(string)
  description = "Environment variables the DAG file reads (LAKEHOUSE_SINKS, LAKEHOUSE_WAREHOUSE, LAKEHOUSE_DAGS_START_DATE, ...)."
}
