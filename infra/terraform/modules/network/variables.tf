variable "name" {
  type        = string
  description = "Prefix of every resource name, <project>-<environment>."
}

variable "cidr_block" {
  type        = string
  description = "The VPC's address range; each private subnet takes a /4 slice of it (16 possible)."
  validation {
    condition     = can(cidrhost(var.cidr_block, 0))
    error_message = "Must be a CIDR block such as 10.40.0.0/16."
  }
}

variable "az_count" {
  type        = number
  description = "Availability zones with a private subnet: at least 2 (MWAA, ALB and multi-AZ services need two)."
  validation {
    condition     = var.az_count >= 2 && var.az_count <= 4
    error_message = "Between 2 and 4 availability zones."
  }
}

variable "interface_endpoints" {
  type        = list(string)
  description = "AWS services reached through interface endpoints (service names after com.amazonaws.<region>.)."
  default = [
    "kinesis-streams", # the ingestion API writes, the streaming job reads
    "sts",             # web identity and role sessions of the SDKs
    "logs",            # task, job, Airflow and API logs
    "monitoring",      # CloudWatch metrics, the pipeline's freshness metric included
    "ecr.api", "ecr.dkr", # container images for Fargate and EMR Serverless
    "secretsmanager",  # the sinks' and Trino's passwords
    "kms",             # decrypting what the CMKs encrypt
    "glue",            # Trino's metastore, the jobs' catalog
    "ssm",             # the job-run parameters the DAG reads
    "sqs",             # MWAA's Celery queue
    "emr-serverless",  # Airflow starts and watches job runs
    "airflow.api", "airflow.env", "airflow.ops", # a private MWAA environment
  ]
}

variable "log_retention_days" {
  type        = number
  description = "Days the VPC flow logs are kept."
}

variable "logs_kms_key_arn" {
  type        = string
  description = "The CMK that encrypts CloudWatch Logs groups."
}
