output "alerts_topic_arn" {
  description = "The SNS topic every alarm notifies."
  value       = aws_sns_topic.alerts.arn
}

output "dashboard_name" {
  description = "The CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}
