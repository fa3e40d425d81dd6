# dev: small and cheap. No secret here: passwords are generated into Secrets Manager.
environment = "dev"
region      = "eu-west-1"
vpc_cidr    = "10.40.0.0/16"
az_count    = 2

deletion_protection         = false
force_destroy_buckets       = true
secret_recovery_window_days = 0
log_retention_days          = 365

# On-demand: dev's traffic is a trickle with bursts from load tests.
stream_mode            = "ON_DEMAND"
peak_events_per_second = 500
event_size_bytes       = 1024

delta_version     = "4.4.0"
emr_release_label = "emr-spark-8.0.0"
# The hourly DAG drains the stages; no pre-initialized workers: pay only while a job runs.
streaming             = false
emr_initial_executors = 0
emr_max_vcpu          = 32
emr_max_memory_gb     = 128
spark_jar_files = [
  "delta-spark_4.1_2.13-4.4.0.jar",
  "delta-storage-4.4.0.jar",
  "delta-storage-s3-dynamodb-4.4.0.jar",
  "insights-validator.jar",
]

airflow_version        = "3.0.6"
mwaa_environment_class = "mw1.small"
mwaa_min_workers       = 1
mwaa_max_workers       = 2
dags_start_date        = "2026-12-01"

influxdb_instance_type = "db.influx.medium"
influxdb_storage_gb    = 20
influxdb_multi_az      = false

opensearch_instance_type     = "t3.medium.search"
opensearch_instance_count    = 1
opensearch_zone_count        = 1
opensearch_dedicated_masters = false
opensearch_volume_gb         = 20

app_image_tag            = "0.1.0"
ingest_min_tasks         = 1
ingest_max_tasks         = 2
portal_min_tasks         = 1
portal_max_tasks         = 2
requests_per_task_target = 1000

api_throttle_burst_limit   = 200
api_throttle_rate_limit    = 100
waf_requests_per_5_minutes = 10000
api_certificate_arn        = "arn:aws:acm:eu-west-1:000000000000:certificate/replace-with-dev-api-certificate"
api_domain_name            = "api.dev.merchant-insights.internal"

trino_image_tag       = "478"
trino_worker_cpu      = 2048
trino_worker_memory   = 8192
trino_min_workers     = 1
trino_max_workers     = 2
trino_certificate_arn = "arn:aws:acm:eu-west-1:000000000000:certificate/replace-with-dev-trino-certificate"
