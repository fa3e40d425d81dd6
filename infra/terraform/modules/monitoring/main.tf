# Alarms on what breaks the design's promises (fresh gold within the hour, a working API, healthy stores), all to
# one encrypted SNS topic, and a dashboard of the same metrics.
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

resource "aws_sns_topic" "alerts" {
  name              = "${var.name}-alerts"
  kms_master_key_id = var.kms_key_arn
}

resource "aws_sns_topic_subscription" "email" {
  for_each = toset(var.alert_emails)

  topic_arn = aws_sns_topic.alerts.arn
  protocol  = "email"
  endpoint  = each.key
}

# ---- the pipeline ----
# Bronze falling behind the stream: records wait on Kinesis instead of reaching the lake.
resource "aws_cloudwatch_metric_alarm" "stream_iterator_age" {
  alarm_name          = "${var.name}-stream-iterator-age"
  alarm_description   = "Bronze is behind the Kinesis stream by more than ${var.iterator_age_threshold_ms / 60000} minutes"
  namespace           = "AWS/Kinesis"
  metric_name         = "GetRecords.IteratorAgeMilliseconds"
  dimensions          = { StreamName = var.stream_name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 2
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.iterator_age_threshold_ms
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alerts.arn]
  ok_actions          = [aws_sns_topic.alerts.arn]
}

# Writers throttled: the stream has too few shards for the traffic (or one merchant's shard is hot).
resource "aws_cloudwatch_metric_alarm" "stream_write_throttled" {
  alarm_name          = "${var.name}-stream-write-throttled"
  alarm_description   = "The ingestion API's writes to Kinesis are being throttled"
  namespace           = "AWS/Kinesis"
  metric_name         = "WriteProvisionedThroughputExceeded"
  dimensions          = { StreamName = var.stream_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alerts.arn]
  ok_actions          = [aws_sns_topic.alerts.arn]
}

# The design's promise: gold within an hour. The pipeline reports how old its published gold is; no report at all
# means the pipeline is silent, which is as stale as it gets.
resource "aws_cloudwatch_metric_alarm" "gold_freshness" {
  alarm_name          = "${var.name}-gold-freshness"
  alarm_description   = "Gold is more than ${var.freshness_threshold_seconds} s behind, or the pipeline stopped reporting"
  namespace           = var.metrics_namespace
  metric_name         = "GoldFreshnessSeconds"
  statistic           = "Maximum"
  # A period holds a value even when one report comes late: else a healthy hourly deployment would read as silent.
  period              = max(300, 2 * var.freshness_report_seconds)
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.freshness_threshold_seconds
  treat_missing_data  = "breaching"
  alarm_actions       = [aws_sns_topic.alerts.arn]
  ok_actions          = [aws_sns_topic.alerts.arn]
}

# From release 7.10 on, EMR Serverless publishes its job metrics with ApplicationName and JobName dimensions besides
# ApplicationId, and no longer updates the ApplicationId-only series. An alarm on one exact dimension set would watch
# a series that never moves; a Metrics Insights query sums every series of the application, whatever else it carries.
locals {
  spark_failed_jobs_query = "SELECT SUM(FailedJobs) FROM \"AWS/EMRServerless\" WHERE ApplicationId = '${var.spark_application_id}'"
}

resource "aws_cloudwatch_metric_alarm" "spark_failed_jobs" {
  alarm_name          = "${var.name}-spark-failed-jobs"
  alarm_description   = "A Spark job run failed on EMR Serverless"
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alerts.arn]
  ok_actions          = [aws_sns_topic.alerts.arn]

  metric_query {
    id          = "failed"
    expression  = local.spark_failed_jobs_query
    period      = 300
    return_data = true
  }
}

resource "aws_cloudwatch_metric_alarm" "airflow_failed_tasks" {
  alarm_name          = "${var.name}-airflow-failed-tasks"
  alarm_description   = "Airflow task instances failed (after their retries)"
  namespace           = "AmazonMWAA"
  metric_name         = "TaskInstanceFailures"
  dimensions          = { Environment = var.airflow_environment_name, Function = "Scheduler" }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alerts.arn]
  ok_actions          = [aws_sns_topic.alerts.arn]
}

resource "aws_cloudwatch_metric_alarm" "airflow_failed_dag_runs" {
  alarm_name          = "${var.name}-airflow-failed-dag-runs"
  alarm_description   = "A run of the hourly DAG failed: an hour is not published in time"
  namespace           = "AmazonMWAA"
  metric_name         = "DAGDurationFailed"
  dimensions          = { Environment = var.airflow_environment_name, DAG = var.hourly_dag_id }
  statistic           = "SampleCount"
  period              = 3600
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alerts.arn]
  ok_actions          = [aws_sns_topic.alerts.arn]
}

# ---- the API ----
resource "aws_cloudwatch_metric_alarm" "api_5xx" {
  alarm_name          = "${var.name}-api-5xx"
  alarm_description   = "The API answers server errors (503: the stream or a store is unavailable)"
  namespace           = "AWS/ApiGateway"
  metric_name         = "5xx"
  dimensions          = { ApiId = var.api_id, Stage = var.api_stage }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 2
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.api_5xx_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alerts.arn]
  ok_actions          = [aws_sns_topic.alerts.arn]
}

resource "aws_cloudwatch_metric_alarm" "api_latency_p99" {
  alarm_name          = "${var.name}-api-latency-p99"
  alarm_description   = "The API's p99 latency is above ${var.api_p99_latency_ms} ms"
  namespace           = "AWS/ApiGateway"
  metric_name         = "Latency"
  dimensions          = { ApiId = var.api_id, Stage = var.api_stage }
  extended_statistic  = "p99"
  period              = 300
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.api_p99_latency_ms
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alerts.arn]
  ok_actions          = [aws_sns_topic.alerts.arn]
}

# A service with fewer running tasks than its minimum: crashing tasks, or tasks that cannot start.
resource "aws_cloudwatch_metric_alarm" "ecs_running_tasks" {
  for_each = var.ecs_services

  alarm_name          = "${var.name}-${each.key}-running-tasks"
  alarm_description   = "${each.key} runs fewer than its ${each.value} tasks"
  namespace           = "ECS/ContainerInsights"
  metric_name         = "RunningTaskCount"
  dimensions          = { ClusterName = var.ecs_cluster_name, ServiceName = each.key }
  statistic           = "Minimum"
  period              = 60
  evaluation_periods  = 5
  comparison_operator = "LessThanThreshold"
  threshold           = each.value
  treat_missing_data  = "breaching"
  alarm_actions       = [aws_sns_topic.alerts.arn]
  ok_actions          = [aws_sns_topic.alerts.arn]
}

# ---- the stores ----
locals {
  opensearch_dimensions = { DomainName = var.opensearch_domain_name, ClientId = data.aws_caller_identity.current.account_id }
}

resource "aws_cloudwatch_metric_alarm" "opensearch_status" {
  for_each = toset(["red", "yellow"])

  alarm_name          = "${var.name}-opensearch-${each.key}"
  alarm_description   = "OpenSearch cluster status is ${each.key}"
  namespace           = "AWS/ES"
  metric_name         = "ClusterStatus.${each.key}"
  dimensions          = local.opensearch_dimensions
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = each.key == "red" ? 1 : 10 # yellow while a replica recovers is normal for a few minutes
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alerts.arn]
  ok_actions          = [aws_sns_topic.alerts.arn]
}

resource "aws_cloudwatch_metric_alarm" "opensearch_free_storage" {
  alarm_name          = "${var.name}-opensearch-free-storage"
  alarm_description   = "An OpenSearch node has less than ${var.opensearch_min_free_storage_mb} MB free"
  namespace           = "AWS/ES"
  metric_name         = "FreeStorageSpace"
  dimensions          = local.opensearch_dimensions
  statistic           = "Minimum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "LessThanThreshold"
  threshold           = var.opensearch_min_free_storage_mb
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alerts.arn]
  ok_actions          = [aws_sns_topic.alerts.arn]
}

resource "aws_cloudwatch_metric_alarm" "influxdb_cpu" {
  alarm_name          = "${var.name}-influxdb-cpu"
  alarm_description   = "Timestream for InfluxDB's CPU is above ${var.influxdb_cpu_threshold_percent}%"
  namespace           = "AWS/TimestreamInfluxDB"
  metric_name         = "CPUUtilization"
  dimensions          = { DbInstanceName = var.influxdb_instance_name }
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.influxdb_cpu_threshold_percent
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alerts.arn]
  ok_actions          = [aws_sns_topic.alerts.arn]
}

# ---- the dashboard ----
locals {
  alarm_arns = concat(
    [
      aws_cloudwatch_metric_alarm.gold_freshness.arn,
      aws_cloudwatch_metric_alarm.stream_iterator_age.arn,
      aws_cloudwatch_metric_alarm.stream_write_throttled.arn,
      aws_cloudwatch_metric_alarm.spark_failed_jobs.arn,
      aws_cloudwatch_metric_alarm.airflow_failed_tasks.arn,
      aws_cloudwatch_metric_alarm.airflow_failed_dag_runs.arn,
      aws_cloudwatch_metric_alarm.api_5xx.arn,
      aws_cloudwatch_metric_alarm.api_latency_p99.arn,
      aws_cloudwatch_metric_alarm.opensearch_free_storage.arn,
      aws_cloudwatch_metric_alarm.influxdb_cpu.arn,
    ],
    [for alarm in aws_cloudwatch_metric_alarm.opensearch_status : alarm.arn],
    [for alarm in aws_cloudwatch_metric_alarm.ecs_running_tasks : alarm.arn],
  )

  region = data.aws_region.current.region
  metric_widgets = {
    "Gold freshness (s)"        = [[var.metrics_namespace, "GoldFreshnessSeconds", { stat = "Maximum" }]]
    "Stream iterator age (ms)"  = [["AWS/Kinesis", "GetRecords.IteratorAgeMilliseconds", "StreamName", var.stream_name, { stat = "Maximum" }]]
    "Events in (records)"       = [["AWS/Kinesis", "IncomingRecords", "StreamName", var.stream_name, { stat = "Sum" }]]
    "Spark jobs failed"         = [[{ expression = local.spark_failed_jobs_query, id = "failed", label = "FailedJobs" }]]
    "API 5xx"                   = [["AWS/ApiGateway", "5xx", "ApiId", var.api_id, "Stage", var.api_stage, { stat = "Sum" }]]
    "API latency p99 (ms)"      = [["AWS/ApiGateway", "Latency", "ApiId", var.api_id, "Stage", var.api_stage, { stat = "p99" }]]
    "OpenSearch free storage"   = [["AWS/ES", "FreeStorageSpace", "DomainName", var.opensearch_domain_name, "ClientId", data.aws_caller_identity.current.account_id, { stat = "Minimum" }]]
    "InfluxDB CPU (%)"          = [["AWS/TimestreamInfluxDB", "CPUUtilization", "DbInstanceName", var.influxdb_instance_name, { stat = "Average" }]]
  }
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name
  dashboard_body = jsonencode({
    widgets = concat(
      [{
        type       = "alarm"
        x          = 0
        y          = 0
        width      = 24
        height     = 4
        properties = { title = "Alarms", alarms = local.alarm_arns }
      }],
      [for index, title in keys(local.metric_widgets) : {
        type   = "metric"
        x      = (index % 3) * 8
        y      = 4 + floor(index / 3) * 6
        width  = 8
        height = 6
        properties = {
          title   = title
          region  = local.region
          metrics = local.metric_widgets[title]
          period  = 300
        }
      }],
    )
  })
}
