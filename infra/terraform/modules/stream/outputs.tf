output "stream_name" {
  description = "The stream's name, as in LAKEHOUSE_SOURCE=kinesis:<name>."
  value       = aws_kinesis_stream.events.name
}

output "stream_arn" {
  description = "The stream's ARN, for IAM policies."
  value       = aws_kinesis_stream.events.arn
}

output "shard_count" {
  description = "Shards provisioned (null in on-demand mode)."
  value       = aws_kinesis_stream.events.shard_count
}

output "computed_shard_count" {
  description = "Shards the planned peak needs, whatever the mode: what provisioned mode would take."
  value       = local.shard_count
}
