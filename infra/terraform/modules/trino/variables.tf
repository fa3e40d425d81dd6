variable "name" {
  type        = string
  description = "Prefix of every resource name, <project>-<environment>."
}

variable "vpc_id" {
  type        = string
  description = "The VPC Trino runs in."
}

variable "vpc_cidr" {
  type        = string
  description = "The VPC's address range: where analysts' clients connect from."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets for the tasks and the ALB."
}

variable "gateway_prefix_list_ids" {
  type        = list(string)
  description = "Prefix lists of the S3 and DynamoDB gateway endpoints."
}

variable "cluster_arn" {
  type        = string
  description = "The ECS cluster the services run in."
}

variable "cluster_name" {
  type        = string
  description = "The ECS cluster's name (autoscaling names services by it)."
}

variable "image_tag" {
  type        = string
  description = "Tag of the Trino image (the official trinodb/trino, mirrored) in the module's ECR repository."
}

variable "coordinator_cpu" {
  type        = number
  description = "CPU units of the coordinator (1024 = 1 vCPU)."
  default     = 4096
}

variable "coordinator_memory" {
  type        = number
  description = "Memory of the coordinator, MiB."
  default     = 16384
}

variable "worker_cpu" {
  type        = number
  description = "CPU units of a worker."
}

variable "worker_memory" {
  type        = number
  description = "Memory of a worker, MiB."
}

variable "min_workers" {
  type        = number
  description = "Workers always running."
  validation {
    condition     = var.min_workers >= 1
    error_message = "At least one: the coordinator does not schedule work on itself."
  }
}

variable "max_workers" {
  type        = number
  description = "Most workers autoscaling may run."
}

variable "worker_cpu_target_percent" {
  type        = number
  description = "Average worker CPU autoscaling keeps."
  default     = 70
}

variable "lake_bucket_name" {
  type        = string
  description = "The lake bucket (the registry catalog's default warehouse directory)."
}

variable "lake_bucket_arn" {
  type        = string
  description = "The lake bucket's ARN."
}

variable "lake_kms_key_arn" {
  type        = string
  description = "The lake bucket's CMK."
}

variable "catalog_kms_key_arn" {
  type        = string
  description = "The CMK the Glue Data Catalog's metadata is encrypted with."
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
  description = "ARN prefixes of the Glue databases' tables."
}

variable "password_file_secret_arn" {
  type        = string
  description = "Secret holding Trino's password.db (user:bcrypt hash lines)."
}

variable "shared_secret_arn" {
  type        = string
  description = "Secret holding Trino's internal-communication shared secret."
}

variable "secrets_kms_key_arn" {
  type        = string
  description = "The secrets' CMK."
}

variable "kms_key_arn" {
  type        = string
  description = "The CMK of the ECR repository."
}

variable "logs_kms_key_arn" {
  type        = string
  description = "The CMK that encrypts CloudWatch Logs groups."
}

variable "log_retention_days" {
  type        = number
  description = "Days Trino's logs are kept."
}

variable "access_logs_bucket" {
  type        = string
  description = "Bucket of the ALB's access logs (SSE-S3)."
}

variable "certificate_arn" {
  type        = string
  description = "ACM certificate of Trino's internal ALB."
  validation {
    condition     = startswith(var.certificate_arn, "arn:aws:acm:")
    error_message = "An ACM certificate ARN."
  }
}

variable "deletion_protection" {
  type        = bool
  description = "Refuse to delete the load balancer."
}
