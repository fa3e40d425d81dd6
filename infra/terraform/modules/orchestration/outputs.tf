output "environment_name" {
  description = "The MWAA environment's name (its CloudWatch dimension Environment)."
  value       = aws_mwaa_environment.this.name
}

output "webserver_url" {
  description = "The Airflow UI, reachable from inside the VPC."
  value       = aws_mwaa_environment.this.webserver_url
}

output "execution_role_arn" {
  description = "The environment's execution role."
  value       = aws_iam_role.airflow.arn
}
