variable "name" {
  type        = string
  description = "Prefix of every resource name, <project>-<environment>."
}

variable "stream_mode" {
  type        = string
  description = "ON_DEMAND (Kinesis scales the shards) or PROVISIONED (shards computed from the peak below)."
  validation {
    condition     = contains(["ON_DEMAND", "PROVISIONED"], var.stream_mode)
    error_message = "ON_DEMAND or PROVISIONED."
  }
}

variable "peak_events_per_second" {
  type        = number
  description = "The highest event rate the stream must take (the design's peak: 35,000/s at 1 B events a day)."
  validation {
    condition     = var.peak_events_per_second > 0
    error_message = "Must be positive."
  }
}

variable "event_size_bytes" {
  type        = number
  description = "Planned size of one event record in bytes (payload plus partition key)."
  validation {
    condition     = var.event_size_bytes > 0 && var.event_size_bytes <= 1048576
    error_message = "Between 1 byte and the 1 MiB Kinesis record limit."
  }
}

variable "shard_headroom" {
  type        = number
  description = "Factor over the peak that provisioned shards can take (1.5 = 50% spare)."
  default     = 1.5
  validation {
    condition     = var.shard_headroom >= 1
    error_message = "At least 1: fewer shards than the peak needs would throttle writes."
  }
}

variable "retention_hours" {
  type        = number
  description = "Hours records stay on the stream; the design keeps 7 days (168) so a stopped pipeline can catch up."
  default     = 168
  validation {
    condition     = var.retention_hours >= 24 && var.retention_hours <= 8760
    error_message = "Kinesis keeps records 24 to 8760 hours."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "The CMK that encrypts the stream's records."
}
