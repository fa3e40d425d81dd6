variable "name" {
  type        = string
  description = "Prefix of every resource name, <project>-<environment>."
}

variable "deletion_window_days" {
  type        = number
  description = "Days a key scheduled for deletion can still be recovered."
  default     = 30
  validation {
    condition     = var.deletion_window_days >= 7 && var.deletion_window_days <= 30
    error_message = "KMS allows 7 to 30 days."
  }
}
