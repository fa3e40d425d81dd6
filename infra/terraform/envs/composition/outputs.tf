output "api_endpoint" {
  description = "The public API: stores POST /v1/events, merchants use the portal."
  value       = module.api.api_endpoint
}

output "warehouse_uri" {
  description = "LAKEHOUSE_WAREHOUSE."
  value       = module.lake.warehouse_uri
}

output "checkpoints_uri" {
  description = "LAKEHOUSE_CHECKPOINTS."
  value       = module.lake.checkpoints_uri
}

output "stream_source" {
  description = "LAKEHOUSE_SOURCE."
  value       = "kinesis:${module.stream.stream_name}"
}

output "stream_shard_count" {
  description = "Shards the planned peak needs (provisioned mode uses exactly these)."
  value       = module.stream.computed_shard_count
}

output "artifacts_bucket" {
  description = "Where the release step copies jobs.zip, the venv archive and the jars."
  value       = module.lake.bucket_names["artifacts"]
}

output "spark_job_runs" {
  description = "StartJobRun parameters of each Spark job."
  value       = module.spark.job_runs
}

output "spark_job_run_parameters" {
  description = "SSM parameters (Airflow variables emr_job_<job>) holding the same."
  value       = module.spark.job_run_parameter_names
}

output "delta_log_store_package" {
  description = "Maven coordinate of Delta's DynamoDB log store jar."
  value       = module.delta_log_store.package
}

output "delta_log_store_spark_conf" {
  description = "Spark settings that commit through the DynamoDB log store."
  value       = module.delta_log_store.spark_conf
}

output "influxdb_url" {
  description = "LAKEHOUSE_INFLUXDB_URL."
  value       = module.serving.influxdb_url
}

output "opensearch_url" {
  description = "LAKEHOUSE_OPENSEARCH_URL."
  value       = module.serving.opensearch_url
}

output "trino_load_balancer" {
  description = "Trino's internal HTTPS load balancer."
  value       = module.trino.load_balancer_dns_name
}

output "airflow_webserver_url" {
  description = "The Airflow UI (private)."
  value       = module.orchestration.webserver_url
}

output "image_repositories" {
  description = "ECR repositories the release step pushes to."
  value       = { lakehouse = module.api.ecr_repository_url, trino = module.trino.ecr_repository_url }
}

output "alerts_topic_arn" {
  description = "The alarms' SNS topic."
  value       = module.monitoring.alerts_topic_arn
}
