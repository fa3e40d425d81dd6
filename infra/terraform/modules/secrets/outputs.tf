output "users" {
  description = "User name of each login, by secret key (influxdb-pipeline, opensearch-portal, ...)."
  value       = { for key, login in local.logins : key => login.user }
}

output "secret_arns" {
  description = "ARN of each login's secret, by secret key; plus influxdb-token, trino-password-file and trino-shared-secret."
  value = merge(
    { for key, secret in aws_secretsmanager_secret.login : key => secret.arn },
    {
      influxdb-token      = aws_secretsmanager_secret.influxdb_token.arn
      trino-password-file = aws_secretsmanager_secret.trino_password_file.arn
      trino-shared-secret = aws_secretsmanager_secret.trino_shared_secret.arn
    },
  )
}

output "secret_names" {
  description = "Name of each login's secret, by secret key (EMR Serverless resolves EMR.secret@<name>)."
  value       = { for key, secret in aws_secretsmanager_secret.login : key => secret.name }
}

output "influxdb_admin_password" {
  description = "The InfluxDB instance's initial admin password."
  value       = random_password.login["influxdb-admin"].result
  sensitive   = true
}

output "opensearch_master_password" {
  description = "The OpenSearch master user's password."
  value       = random_password.login["opensearch-master"].result
  sensitive   = true
}
