# prod: 1 B events a day (11,600/s on average, 35,000/s at peak), 99.9% availability, so every tier spans three
# availability zones. No secret here: passwords are generated into Secrets Manager.
environment = "prod"
region      = "eu-west-1"
vpc_cidr    = "10.50.0.0/16"
az_count    = 3

deletion_protection         = true
force_destroy_buckets       = false
secret_recovery_window_days = 30
log_retention_days          = 365

# Provisioned: at a steady billion events a day, shards cost well under on-demand's per-GB price. The shard count is
# computed from the peak and the event size (modules/stream): 35,000/s x 1 KiB x 1.5 headroom = 53 shards.
stream_mode            = "PROVISIONED"
peak_events_per_second = 35000
event_size_bytes       = 1024
shard_headroom         = 1.5

delta_version     = "4.4.0"
emr_release_label = "emr-spark-8.0.0"
# The streaming job drains the stages (the hourly DAG checks and maintains). It sustains about 2,700 events/s per
# vCPU (docs/performance.md: 5,400-6,900/s on 2 cores): the 35,000/s peak needs 13 vCPU, and the 5 warm executors
# of 4 vCPU have 20. The ceiling leaves room for the hourly jobs and a backfill of several days beside it.
streaming             = true
emr_initial_executors = 5
emr_max_vcpu          = 400
emr_max_memory_gb     = 1600
# The jars of pom.xml that EMR does not bring (it has Hadoop's S3A and the AWS SDK): Delta for Spark 4.1, its
# DynamoDB log store, and the event validator.
spark_jar_files = [
  "delta-spark_4.1_2.13-4.4.0.jar",
  "delta-storage-4.4.0.jar",
  "delta-storage-s3-dynamodb-4.4.0.jar",
  "insights-validator.jar",
]

airflow_version        = "3.0.6"
mwaa_environment_class = "mw1.medium"
mwaa_min_workers       = 2
mwaa_max_workers       = 10
dags_start_date        = "2026-12-01"

influxdb_instance_type = "db.influx.2xlarge"
influxdb_storage_gb    = 400
influxdb_multi_az      = true

# Three data nodes, one per zone, behind three dedicated masters.
opensearch_instance_type     = "r7g.large.search"
opensearch_instance_count    = 3
opensearch_zone_count        = 3
opensearch_dedicated_masters = true
opensearch_volume_gb         = 200

# Ingest: 35,000 events/s at peak arrive in requests of up to 500 events; 3 tasks (one per zone) at least, scaling
# out on CPU and requests.
app_image_tag            = "0.1.0"
ingest_min_tasks         = 3
ingest_max_tasks         = 24
portal_min_tasks         = 3
portal_max_tasks         = 12
requests_per_task_target = 6000

api_throttle_burst_limit   = 5000
api_throttle_rate_limit    = 2500
waf_requests_per_5_minutes = 100000
api_certificate_arn        = "arn:aws:acm:eu-west-1:000000000000:certificate/replace-with-prod-api-certificate"
api_domain_name            = "api.merchant-insights.internal"

trino_image_tag       = "478"
trino_worker_cpu      = 8192
trino_worker_memory   = 32768
trino_min_workers     = 2
trino_max_workers     = 10
trino_certificate_arn = "arn:aws:acm:eu-west-1:000000000000:certificate/replace-with-prod-trino-certificate"
