variable "name" {
  type        = string
  description = "Prefix of every resource name, <project>-<environment>."
}

variable "vpc_id" {
  type        = string
  description = "The VPC the services run in."
}

variable "vpc_cidr" {
  type        = string
  description = "The VPC's address range."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets for the tasks, the ALB, the VPC link and EFS."
}

variable "gateway_prefix_list_ids" {
  type        = list(string)
  description = "Prefix lists of the S3 and DynamoDB gateway endpoints."
}

variable "image_tag" {
  type        = string
  description = "Tag of the lakehouse image in the module's ECR repository (immutable tags)."
}

variable "task_cpu" {
  type        = number
  description = "CPU units of a task (1024 = 1 vCPU)."
  default     = 1024
}

variable "task_memory" {
  type        = number
  description = "Memory of a task, MiB."
  default     = 2048
}

variable "ingest_min_tasks" {
  type        = number
  description = "Ingestion API tasks always running (at least one per availability zone in prod)."
  validation {
    condition     = var.ingest_min_tasks >= 1
    error_message = "At least one."
  }
}

variable "ingest_max_tasks" {
  type        = number
  description = "Most ingestion API tasks autoscaling may run."
}

variable "portal_min_tasks" {
  type        = number
  description = "Portal tasks always running."
  validation {
    condition     = var.portal_min_tasks >= 1
    error_message = "At least one."
  }
}

variable "portal_max_tasks" {
  type        = number
  description = "Most portal tasks autoscaling may run."
}

variable "cpu_target_percent" {
  type        = number
  description = "Average CPU the services scale to keep."
  default     = 60
}

variable "requests_per_task_target" {
  type        = number
  description = "ALB requests per task per minute the services scale to keep."
}

variable "ingest_rate_per_merchant" {
  type        = number
  description = "LAKEHOUSE_INGEST_RATE: events a second a merchant may send to one API task."
  default     = 10000
}

variable "stream_name" {
  type        = string
  description = "The Kinesis stream the ingestion API writes."
}

variable "stream_arn" {
  type        = string
  description = "The stream's ARN."
}

variable "stream_kms_key_arn" {
  type        = string
  description = "The stream's CMK (writers need GenerateDataKey on it)."
}

variable "influxdb_url" {
  type        = string
  description = "LAKEHOUSE_INFLUXDB_URL for the portal."
}

variable "influxdb_port" {
  type        = number
  description = "InfluxDB's port, for the egress rule."
  default     = 8086
}

variable "influxdb_database" {
  type        = string
  description = "LAKEHOUSE_INFLUXDB_DATABASE for the portal."
}

variable "influxdb_user" {
  type        = string
  description = "The portal's read-only InfluxDB login."
}

variable "opensearch_url" {
  type        = string
  description = "LAKEHOUSE_OPENSEARCH_URL for the portal."
}

variable "opensearch_user" {
  type        = string
  description = "The portal's read-only OpenSearch login."
}

variable "opensearch_prefix" {
  type        = string
  description = "LAKEHOUSE_OPENSEARCH_PREFIX."
  default     = "merchant-insights"
}

variable "portal_password_secret_arns" {
  type        = map(string)
  description = "Secrets of the portal's logins by store: influxdb, opensearch."
}

variable "secrets_kms_key_arn" {
  type        = string
  description = "The secrets' CMK (ECS decrypts the portal's passwords)."
}

variable "kms_key_arn" {
  type        = string
  description = "The CMK of the ECR repository and the keys' file system."
}

variable "logs_kms_key_arn" {
  type        = string
  description = "The CMK that encrypts CloudWatch Logs groups."
}

variable "log_retention_days" {
  type        = number
  description = "Days the services', WAF and API Gateway logs are kept."
}

variable "access_logs_bucket" {
  type        = string
  description = "Bucket of the ALB's access logs (SSE-S3)."
}

variable "certificate_arn" {
  type        = string
  description = "ACM certificate of the internal ALB, for api_domain_name."
  validation {
    condition     = startswith(var.certificate_arn, "arn:aws:acm:")
    error_message = "An ACM certificate ARN."
  }
}

variable "api_domain_name" {
  type        = string
  description = "Name on the ALB's certificate, which API Gateway verifies when it connects."
}

variable "deletion_protection" {
  type        = bool
  description = "Refuse to delete the load balancer."
}

variable "throttle_burst_limit" {
  type        = number
  description = "API Gateway stage burst limit (requests)."
}

variable "throttle_rate_limit" {
  type        = number
  description = "API Gateway stage steady rate limit (requests a second)."
}

variable "waf_requests_per_5_minutes" {
  type        = number
  description = "Requests one client address may make in 5 minutes before WAF blocks it."
  validation {
    condition     = var.waf_requests_per_5_minutes >= 10
    error_message = "WAF's rate-based rules start at 10."
  }
}
