output "key_arns" {
  description = "ARN of each key by purpose: data, stream, secrets, logs, serving."
  value       = { for purpose, key in aws_kms_key.this : purpose => key.arn }
}
