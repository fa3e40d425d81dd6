output "bucket_names" {
  description = "Name of each data bucket: lake, checkpoints, artifacts."
  value       = { for key, bucket in aws_s3_bucket.data : key => bucket.id }
}

output "bucket_arns" {
  description = "ARN of each data bucket: lake, checkpoints, artifacts."
  value       = { for key, bucket in aws_s3_bucket.data : key => bucket.arn }
}

output "logs_bucket_name" {
  description = "The access-log bucket (SSE-S3); load balancers write under alb/."
  value       = aws_s3_bucket.logs.id
}

output "warehouse_uri" {
  description = "LAKEHOUSE_WAREHOUSE: the Delta tables' root, as Spark's S3A reaches it."
  value       = "s3a://${aws_s3_bucket.data["lake"].id}/warehouse"
}

output "checkpoints_uri" {
  description = "LAKEHOUSE_CHECKPOINTS: the stream checkpoints' root."
  value       = "s3a://${aws_s3_bucket.data["checkpoints"].id}/checkpoints"
}
