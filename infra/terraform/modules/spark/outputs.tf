output "application_id" {
  description = "The EMR Serverless application's id."
  value       = aws_emrserverless_application.spark.id
}

output "application_arn" {
  description = "The EMR Serverless application's ARN."
  value       = aws_emrserverless_application.spark.arn
}

output "job_role_arn" {
  description = "The job runs' execution role."
  value       = aws_iam_role.job.arn
}

output "job_runs" {
  description = "StartJobRun parameters of each job (streaming, bronze, silver, gold, publish, hour_checks, maintain, backfill)."
  value       = local.job_runs
}

output "job_run_parameter_names" {
  description = "SSM parameter holding each job's StartJobRun parameters."
  value       = { for job, parameter in aws_ssm_parameter.job_run : job => parameter.name }
}

output "job_run_parameter_arns" {
  description = "ARNs of those SSM parameters."
  value       = [for parameter in aws_ssm_parameter.job_run : parameter.arn]
}
