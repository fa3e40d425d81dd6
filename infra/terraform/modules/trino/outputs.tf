output "load_balancer_dns_name" {
  description = "Trino's internal HTTPS endpoint; point the certificate's name at it (LAKEHOUSE_TRINO_URL)."
  value       = aws_lb.trino.dns_name
}

output "ecr_repository_url" {
  description = "Where the release step pushes the Trino image."
  value       = aws_ecr_repository.trino.repository_url
}

output "service_min_tasks" {
  description = "Each Trino service's name and the tasks it must keep running."
  value = {
    (aws_ecs_service.coordinator.name) = 1
    (aws_ecs_service.workers.name)     = var.min_workers
  }
}
