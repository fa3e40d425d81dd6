variable "name" {
  type        = string
  description = "Prefix of every resource name, <project>-<environment>."
}

variable "kms_key_arn" {
  type        = string
  description = "The CMK that encrypts the secrets."
}

variable "recovery_window_days" {
  type        = number
  description = "Days a deleted secret can be restored (0 deletes at once: dev only)."
  default     = 30
  validation {
    condition     = var.recovery_window_days == 0 || (var.recovery_window_days >= 7 && var.recovery_window_days <= 30)
    error_message = "0, or 7 to 30 days."
  }
}
