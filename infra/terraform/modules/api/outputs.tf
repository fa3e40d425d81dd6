output "api_endpoint" {
  description = "The HTTP API's URL: stores POST /v1/events, merchants open the portal."
  value       = aws_apigatewayv2_api.this.api_endpoint
}

output "api_id" {
  description = "The HTTP API's id (CloudWatch dimension ApiId)."
  value       = aws_apigatewayv2_api.this.id
}

output "stage_name" {
  description = "The stage (CloudWatch dimension Stage)."
  value       = aws_apigatewayv2_stage.default.name
}

output "ecr_repository_url" {
  description = "Where the release step pushes the lakehouse image."
  value       = aws_ecr_repository.app.repository_url
}

output "cluster_name" {
  description = "The ECS cluster (shared with Trino)."
  value       = aws_ecs_cluster.this.name
}

output "cluster_arn" {
  description = "The ECS cluster's ARN."
  value       = aws_ecs_cluster.this.arn
}

output "service_min_tasks" {
  description = "Each service's name and the tasks it must keep running."
  value       = { for name, service in local.services : name => service.min_tasks }
}
