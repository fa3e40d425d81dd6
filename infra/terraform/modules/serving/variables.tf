variable "name" {
  type        = string
  description = "Prefix of every resource name, <project>-<environment>."
}

variable "vpc_id" {
  type        = string
  description = "The VPC the stores run in."
}

variable "vpc_cidr" {
  type        = string
  description = "The VPC's address range: the only source admitted by the stores."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets, one per availability zone."
}

variable "influxdb_instance_type" {
  type        = string
  description = "Timestream for InfluxDB instance type (db.influx.medium ... db.influx.16xlarge)."
  validation {
    condition     = can(regex("^db\\.influx\\.", var.influxdb_instance_type))
    error_message = "A db.influx.* instance type."
  }
}

variable "influxdb_storage_type" {
  type        = string
  description = "InfluxIOIncludedT1 (3,000 IOPS), T2 (12,000) or T3 (16,000); T2 and T3 need 400 GiB or more."
  default     = "InfluxIOIncludedT1"
  validation {
    condition     = contains(["InfluxIOIncludedT1", "InfluxIOIncludedT2", "InfluxIOIncludedT3"], var.influxdb_storage_type)
    error_message = "InfluxIOIncludedT1, InfluxIOIncludedT2 or InfluxIOIncludedT3."
  }
}

variable "influxdb_storage_gb" {
  type        = number
  description = "InfluxDB storage in GiB (20 to 16,384)."
  validation {
    condition     = var.influxdb_storage_gb >= 20 && var.influxdb_storage_gb <= 16384
    error_message = "20 to 16384 GiB."
  }
}

variable "influxdb_multi_az" {
  type        = bool
  description = "Run a standby in a second availability zone (prod's 99.9%)."
}

variable "influxdb_port" {
  type        = number
  description = "The port InfluxDB's API listens on."
  default     = 8086
}

variable "influxdb_database" {
  type        = string
  description = "The initial InfluxDB bucket, mapped to the v1 database the jobs write (LAKEHOUSE_INFLUXDB_DATABASE)."
  default     = "merchant_insights"
}

variable "influxdb_admin_user" {
  type        = string
  description = "User name of InfluxDB's initial admin."
  default     = "admin"
}

variable "influxdb_admin_password" {
  type        = string
  description = "Password of InfluxDB's initial admin (from the secrets module)."
  sensitive   = true
}

variable "opensearch_engine_version" {
  type        = string
  description = "OpenSearch engine version, as OpenSearch_<major>.<minor>."
  default     = "OpenSearch_2.19"
  validation {
    condition     = can(regex("^OpenSearch_\\d+\\.\\d+$", var.opensearch_engine_version))
    error_message = "Such as OpenSearch_2.19."
  }
}

variable "opensearch_instance_type" {
  type        = string
  description = "Data node instance type."
}

variable "opensearch_instance_count" {
  type        = number
  description = "Data nodes; a multiple of opensearch_zone_count."
}

variable "opensearch_zone_count" {
  type        = number
  description = "Availability zones the data nodes spread over (1 = no zone awareness, 2 or 3)."
  validation {
    condition     = contains([1, 2, 3], var.opensearch_zone_count)
    error_message = "1, 2 or 3."
  }
}

variable "opensearch_dedicated_masters" {
  type        = bool
  description = "Run three dedicated master nodes (prod: a data node's load cannot stall the cluster's state)."
}

variable "opensearch_master_instance_type" {
  type        = string
  description = "Dedicated master instance type."
  default     = "m7g.large.search"
}

variable "opensearch_volume_gb" {
  type        = number
  description = "EBS gp3 volume per data node, GiB."
}

variable "opensearch_master_user" {
  type        = string
  description = "Fine-grained access control's master user."
  default     = "master"
}

variable "opensearch_master_password" {
  type        = string
  description = "The master user's password (from the secrets module)."
  sensitive   = true
}

variable "kms_key_arn" {
  type        = string
  description = "The CMK that encrypts the OpenSearch domain at rest."
}

variable "logs_kms_key_arn" {
  type        = string
  description = "The CMK that encrypts CloudWatch Logs groups."
}

variable "log_retention_days" {
  type        = number
  description = "Days OpenSearch's audit, slow and application logs are kept."
}
