output "influxdb_url" {
  description = "LAKEHOUSE_INFLUXDB_URL: Timestream for InfluxDB's endpoint (TLS)."
  value       = "https://${aws_timestreaminfluxdb_db_instance.this.endpoint}:${var.influxdb_port}"
}

output "influxdb_port" {
  description = "The port InfluxDB's API listens on, for the clients' egress rules."
  value       = var.influxdb_port
}

output "influxdb_database" {
  description = "LAKEHOUSE_INFLUXDB_DATABASE."
  value       = var.influxdb_database
}

output "influxdb_instance_name" {
  description = "The InfluxDB instance's name (its CloudWatch dimension DbInstanceName)."
  value       = aws_timestreaminfluxdb_db_instance.this.name
}

output "opensearch_url" {
  description = "LAKEHOUSE_OPENSEARCH_URL: the domain's VPC endpoint."
  value       = "https://${aws_opensearch_domain.this.endpoint}"
}

output "opensearch_domain_name" {
  description = "The OpenSearch domain's name (its CloudWatch dimension DomainName)."
  value       = aws_opensearch_domain.this.domain_name
}
