variable "name" {
  type        = string
  description = "Prefix of every resource name, <project>-<environment>."
}

variable "kms_key_arn" {
  type        = string
  description = "The CMK that encrypts the table."
}

variable "delta_version" {
  type        = string
  description = "Delta Lake's version (pom.xml's delta.version); delta-storage-s3-dynamodb must match delta-spark."
  validation {
    condition     = can(regex("^\\d+\\.\\d+\\.\\d+$", var.delta_version))
    error_message = "A version such as 4.4.0."
  }
}

variable "deletion_protection" {
  type        = bool
  description = "Refuse to delete the table (prod: losing it mid-commit could lose a commit)."
  default     = true
}
