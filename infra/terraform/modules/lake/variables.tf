variable "name" {
  type        = string
  description = "Prefix of every resource name, <project>-<environment>."
}

variable "kms_key_arn" {
  type        = string
  description = "The CMK that encrypts the lake, checkpoints and artifacts buckets."
}

variable "bronze_infrequent_access_days" {
  type        = number
  description = "Days after which bronze files move to STANDARD_IA."
  default     = 30
  validation {
    condition     = var.bronze_infrequent_access_days >= 30
    error_message = "S3 moves objects to STANDARD_IA after 30 days at the earliest."
  }
}

variable "bronze_glacier_ir_days" {
  type        = number
  description = "Days after which bronze files move to GLACIER_IR (instant retrieval: a backfill needs no restore)."
  default     = 90
  validation {
    condition     = var.bronze_glacier_ir_days >= var.bronze_infrequent_access_days + 30
    error_message = "Must be at least 30 days after the move to STANDARD_IA (S3's minimum stay there)."
  }
}

variable "noncurrent_version_days" {
  type        = number
  description = "Days an overwritten or deleted object version is kept before it expires."
  default     = 30
  validation {
    condition     = var.noncurrent_version_days >= 1
    error_message = "At least one day."
  }
}

variable "access_log_days" {
  type        = number
  description = "Days S3 and load balancer access logs are kept."
  default     = 365
}

variable "force_destroy" {
  type        = bool
  description = "Let `terraform destroy` delete non-empty buckets (dev only: the lake holds the source of truth)."
  default     = false
}
