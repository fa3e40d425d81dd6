# The event stream between the ingestion API and bronze. Records are keyed by merchant_id (docs/contracts.md), so a
# merchant's events stay in order on one shard.
locals {
  # A shard takes 1,000 records/s and 1 MiB/s of writes; the stream is sized for the peak, times a headroom factor
  # for bursts above the planned peak and for the uneven spread of merchants over shards.
  shard_records_per_second = 1000
  shard_bytes_per_second   = 1048576

  shards_for_records = ceil(var.peak_events_per_second * var.shard_headroom / local.shard_records_per_second)
  shards_for_bytes   = ceil(var.peak_events_per_second * var.event_size_bytes * var.shard_headroom / local.shard_bytes_per_second)
  shard_count        = max(local.shards_for_records, local.shards_for_bytes)
}

resource "aws_kinesis_stream" "events" {
  name             = "${var.name}-events"
  retention_period = var.retention_hours
  # On-demand sizes itself (dev's irregular traffic); provisioned is cheaper at prod's steady volume.
  shard_count     = var.stream_mode == "PROVISIONED" ? local.shard_count : null
  encryption_type = "KMS"
  kms_key_id      = var.kms_key_arn

  stream_mode_details {
    stream_mode = var.stream_mode
  }
}
