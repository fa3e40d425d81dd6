# The ingestion API and the merchant portal: one image (`lakehouse serve ingest|portal`) as two ECS Fargate
# services behind an internal ALB, fronted by an API Gateway HTTP API through a VPC link.
#
# Where the WAF goes: AWS WAF cannot be associated with an API Gateway HTTP API (only REST APIs, ALBs, CloudFront,
# AppSync, ...). We keep the HTTP API (a third of a REST API's price per request, which matters at a billion events
# a day, and its stage throttling is all the gateway has to do) and put the web ACL on the ALB, which every request
# crosses. The rate-based rule counts by the client address API Gateway writes into X-Client-IP: behind the VPC link,
# the connection's own source is always API Gateway, and X-Forwarded-For's first address (the one WAF reads) is
# whatever the client sent in it.
data "aws_region" "current" {}

locals {
  region     = data.aws_region.current.region
  keys_mount = "/mnt/keys"

  services = {
    ingest = {
      port      = 8080
      min_tasks = var.ingest_min_tasks
      max_tasks = var.ingest_max_tasks
      role_arn  = aws_iam_role.ingest.arn
      environment = {
        LAKEHOUSE_SOURCE      = "kinesis:${var.stream_name}"
        LAKEHOUSE_INGEST_RATE = tostring(var.ingest_rate_per_merchant)
      }
      secrets = {}
    }
    portal = {
      port      = 8081
      min_tasks = var.portal_min_tasks
      max_tasks = var.portal_max_tasks
      role_arn  = aws_iam_role.portal.arn
      environment = {
        LAKEHOUSE_INFLUXDB_URL      = var.influxdb_url
        LAKEHOUSE_INFLUXDB_DATABASE = var.influxdb_database
        LAKEHOUSE_INFLUXDB_USER     = var.influxdb_user
        LAKEHOUSE_OPENSEARCH_URL    = var.opensearch_url
        LAKEHOUSE_OPENSEARCH_USER   = var.opensearch_user
        LAKEHOUSE_OPENSEARCH_PREFIX = var.opensearch_prefix
      }
      secrets = {
        LAKEHOUSE_INFLUXDB_PASSWORD   = var.portal_password_secret_arns["influxdb"]
        LAKEHOUSE_OPENSEARCH_PASSWORD = var.portal_password_secret_arns["opensearch"]
      }
    }
  }
}

resource "aws_ecr_repository" "app" {
  name                 = "${var.name}/lakehouse"
  image_tag_mutability = "IMMUTABLE"

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = var.kms_key_arn
  }
}

resource "aws_ecs_cluster" "this" {
  name = var.name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_cloudwatch_log_group" "service" {
  for_each = local.services

  name              = "/${var.name}/ecs/${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn
}

# ---- the API keys' store ----
# `lakehouse serve` keeps the API keys' hashes in one SQLite file (LAKEHOUSE_KEYS), which every task must see: it is
# on EFS. SQLite over NFS allows only modest write concurrency (its locks are slow across clients); that suits keys,
# which are written rarely (`lakehouse keys create|revoke`) and read on every request.
resource "aws_efs_file_system" "keys" {
  encrypted  = true
  kms_key_id = var.kms_key_arn
}

resource "aws_efs_backup_policy" "keys" {
  file_system_id = aws_efs_file_system.keys.id
  backup_policy {
    status = "ENABLED"
  }
}

resource "aws_efs_access_point" "keys" {
  file_system_id = aws_efs_file_system.keys.id

  posix_user {
    uid = 1000
    gid = 1000
  }

  root_directory {
    path = "/keys"
    creation_info {
      owner_uid   = 1000
      owner_gid   = 1000
      permissions = "0750"
    }
  }
}

resource "aws_security_group" "efs" {
  name        = "${var.name}-keys-efs"
  description = "The API keys file system: NFS from the API tasks"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "efs" {
  security_group_id            = aws_security_group.efs.id
  description                  = "NFS from the API tasks"
  referenced_security_group_id = aws_security_group.tasks.id
  ip_protocol                  = "tcp"
  from_port                    = 2049
  to_port                      = 2049
}

resource "aws_efs_mount_target" "keys" {
  for_each = toset(var.subnet_ids)

  file_system_id  = aws_efs_file_system.keys.id
  subnet_id       = each.key
  security_groups = [aws_security_group.efs.id]
}

# ---- roles ----
data "aws_iam_policy_document" "tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

# What ECS itself needs to start a task: pull the image, write its logs, read the portal's passwords.
data "aws_iam_policy_document" "execution" {
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"] # the registry login has no resource ARN
  }
  statement {
    sid       = "PullTheImage"
    actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
    resources = [aws_ecr_repository.app.arn]
  }
  statement {
    sid       = "WriteLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [for group in aws_cloudwatch_log_group.service : "${group.arn}:*"]
  }
  statement {
    sid       = "PortalPasswords"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = values(var.portal_password_secret_arns)
  }
  statement {
    sid       = "DecryptImageAndPasswords"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn, var.secrets_kms_key_arn]
  }
}

resource "aws_iam_role" "execution" {
  name               = "${var.name}-api-execution"
  assume_role_policy = data.aws_iam_policy_document.tasks_assume.json
}

resource "aws_iam_role_policy" "execution" {
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

data "aws_iam_policy_document" "keys_mount" {
  statement {
    sid       = "MountTheKeys"
    actions   = ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"]
    resources = [aws_efs_file_system.keys.arn]
    condition {
      test     = "StringEquals"
      variable = "elasticfilesystem:AccessPointArn"
      values   = [aws_efs_access_point.keys.arn]
    }
  }
}

data "aws_iam_policy_document" "ingest" {
  source_policy_documents = [data.aws_iam_policy_document.keys_mount.json]

  statement {
    sid       = "WriteTheStream"
    actions   = ["kinesis:PutRecords", "kinesis:PutRecord", "kinesis:DescribeStreamSummary", "kinesis:ListShards"]
    resources = [var.stream_arn]
  }
  statement {
    sid       = "EncryptRecords"
    actions   = ["kms:GenerateDataKey"]
    resources = [var.stream_kms_key_arn]
  }
}

resource "aws_iam_role" "ingest" {
  name               = "${var.name}-api-ingest"
  assume_role_policy = data.aws_iam_policy_document.tasks_assume.json
}

resource "aws_iam_role_policy" "ingest" {
  role   = aws_iam_role.ingest.id
  policy = data.aws_iam_policy_document.ingest.json
}

# The portal reads only InfluxDB and OpenSearch, with passwords ECS hands it: its role needs only the keys' mount
# (ClientWrite too, because SQLite opens its file read-write to take its locks).
resource "aws_iam_role" "portal" {
  name               = "${var.name}-api-portal"
  assume_role_policy = data.aws_iam_policy_document.tasks_assume.json
}

resource "aws_iam_role_policy" "portal" {
  role   = aws_iam_role.portal.id
  policy = data.aws_iam_policy_document.keys_mount.json
}

# ---- tasks and services ----
resource "aws_security_group" "tasks" {
  name        = "${var.name}-api-tasks"
  description = "API tasks: from the ALB in, to the stream, sinks, EFS and endpoints out"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "tasks_from_alb" {
  for_each = local.services

  security_group_id            = aws_security_group.tasks.id
  description                  = "${each.key} from the ALB"
  referenced_security_group_id = aws_security_group.alb.id
  ip_protocol                  = "tcp"
  from_port                    = each.value.port
  to_port                      = each.value.port
}

resource "aws_vpc_security_group_egress_rule" "tasks_vpc" {
  for_each = { https = 443, influxdb = var.influxdb_port, nfs = 2049 }

  security_group_id = aws_security_group.tasks.id
  description       = "${each.key} inside the VPC"
  cidr_ipv4         = var.vpc_cidr
  ip_protocol       = "tcp"
  from_port         = each.value
  to_port           = each.value
}

resource "aws_vpc_security_group_egress_rule" "tasks_gateways" {
  for_each = toset(var.gateway_prefix_list_ids)

  security_group_id = aws_security_group.tasks.id
  description       = "ECR image layers from S3"
  prefix_list_id    = each.key
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_ecs_task_definition" "service" {
  for_each = local.services

  family                   = "${var.name}-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.task_cpu
  memory                   = var.task_memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = each.value.role_arn

  volume {
    name = "keys"
    efs_volume_configuration {
      file_system_id     = aws_efs_file_system.keys.id
      transit_encryption = "ENABLED"
      authorization_config {
        access_point_id = aws_efs_access_point.keys.id
        iam             = "ENABLED"
      }
    }
  }

  container_definitions = jsonencode([{
    name                   = each.key
    image                  = "${aws_ecr_repository.app.repository_url}:${var.image_tag}"
    essential              = true
    readonlyRootFilesystem = true
    command                = ["lakehouse", "serve", each.key, "--host", "0.0.0.0", "--port", tostring(each.value.port)]
    portMappings           = [{ containerPort = each.value.port, protocol = "tcp" }]
    environment = [
      for key, value in merge(each.value.environment, {
        LAKEHOUSE_KEYS = "${local.keys_mount}/keys.sqlite"
        AWS_REGION     = local.region
      }) : { name = key, value = value }
    ]
    secrets     = [for key, arn in each.value.secrets : { name = key, valueFrom = arn }]
    mountPoints = [{ sourceVolume = "keys", containerPath = local.keys_mount, readOnly = false }]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.service[each.key].name
        awslogs-region        = local.region
        awslogs-stream-prefix = each.key
      }
    }
  }])
}

resource "aws_ecs_service" "service" {
  for_each = local.services

  name             = each.key
  cluster          = aws_ecs_cluster.this.id
  task_definition  = aws_ecs_task_definition.service[each.key].arn
  desired_count    = each.value.min_tasks
  launch_type      = "FARGATE"
  platform_version = "LATEST" # EFS volumes need 1.4.0 or later, which LATEST is
  propagate_tags   = "SERVICE"

  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.service[each.key].arn
    container_name   = each.key
    container_port   = each.value.port
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  # Autoscaling owns the task count after the first apply.
  lifecycle {
    ignore_changes = [desired_count]
  }

  depends_on = [aws_lb_listener.https, aws_efs_mount_target.keys]
}

resource "aws_appautoscaling_target" "service" {
  for_each = local.services

  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.this.name}/${aws_ecs_service.service[each.key].name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = each.value.min_tasks
  max_capacity       = each.value.max_tasks
}

resource "aws_appautoscaling_policy" "cpu" {
  for_each = local.services

  name               = "${var.name}-${each.key}-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.service[each.key].service_namespace
  resource_id        = aws_appautoscaling_target.service[each.key].resource_id
  scalable_dimension = aws_appautoscaling_target.service[each.key].scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value = var.cpu_target_percent
    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}

resource "aws_appautoscaling_policy" "requests" {
  for_each = local.services

  name               = "${var.name}-${each.key}-requests"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.service[each.key].service_namespace
  resource_id        = aws_appautoscaling_target.service[each.key].resource_id
  scalable_dimension = aws_appautoscaling_target.service[each.key].scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value = var.requests_per_task_target
    predefined_metric_specification {
      predefined_metric_type = "ALBRequestCountPerTarget"
      resource_label         = "${aws_lb.this.arn_suffix}/${aws_lb_target_group.service[each.key].arn_suffix}"
    }
  }
}

# ---- the internal load balancer ----
resource "aws_security_group" "alb" {
  name        = "${var.name}-api-alb"
  description = "The API's internal ALB: HTTPS from API Gateway's VPC link"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "alb_from_vpc_link" {
  security_group_id            = aws_security_group.alb.id
  description                  = "HTTPS from the VPC link"
  referenced_security_group_id = aws_security_group.vpc_link.id
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
}

resource "aws_vpc_security_group_egress_rule" "alb_to_tasks" {
  for_each = local.services

  security_group_id            = aws_security_group.alb.id
  description                  = "To the ${each.key} tasks"
  referenced_security_group_id = aws_security_group.tasks.id
  ip_protocol                  = "tcp"
  from_port                    = each.value.port
  to_port                      = each.value.port
}

resource "aws_lb" "this" {
  name                       = "${var.name}-api"
  internal                   = true
  load_balancer_type         = "application"
  subnets                    = var.subnet_ids
  security_groups            = [aws_security_group.alb.id]
  drop_invalid_header_fields = true
  enable_deletion_protection = var.deletion_protection

  access_logs {
    bucket  = var.access_logs_bucket
    prefix  = "alb"
    enabled = true
  }
}

resource "aws_lb_target_group" "service" {
  #checkov:skip=CKV_AWS_378:TLS ends at the ALB; the hop to the task stays inside the private subnets, and `lakehouse serve` speaks plain HTTP
  for_each = local.services

  name        = "${var.name}-${each.key}"
  port        = each.value.port
  protocol    = "HTTP" # inside the VPC, between the ALB and the task; TLS ends at the ALB
  target_type = "ip"
  vpc_id      = var.vpc_id

  health_check {
    path    = "/healthz"
    matcher = "200"
  }
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn

  # Everything is the portal's but the events endpoint.
  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.service["portal"].arn
  }
}

resource "aws_lb_listener_rule" "ingest" {
  listener_arn = aws_lb_listener.https.arn
  priority     = 10

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.service["ingest"].arn
  }

  condition {
    path_pattern {
      values = ["/v1/events"]
    }
  }
}

# ---- WAF on the ALB (see the top of this file for why here) ----
resource "aws_wafv2_web_acl" "api" {
  name  = "${var.name}-api"
  scope = "REGIONAL"

  default_action {
    allow {}
  }

  # The common rule set caps bodies at 8 KB; an events request may carry up to 1 MiB (docs/ingest.md), so that
  # one rule only counts.
  rule {
    name     = "AWSManagedRulesCommonRuleSet"
    priority = 10
    override_action {
      none {}
    }
    statement {
      managed_rule_group_statement {
        vendor_name = "AWS"
        name        = "AWSManagedRulesCommonRuleSet"
        rule_action_override {
          name = "SizeRestrictions_BODY"
          action_to_use {
            count {}
          }
        }
      }
    }
    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "AWSManagedRulesCommonRuleSet"
      sampled_requests_enabled   = true
    }
  }

  # Known exploit payloads, Log4Shell's among them.
  rule {
    name     = "AWSManagedRulesKnownBadInputsRuleSet"
    priority = 20
    override_action {
      none {}
    }
    statement {
      managed_rule_group_statement {
        vendor_name = "AWS"
        name        = "AWSManagedRulesKnownBadInputsRuleSet"
      }
    }
    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "AWSManagedRulesKnownBadInputsRuleSet"
      sampled_requests_enabled   = true
    }
  }

  rule {
    name     = "AWSManagedRulesAmazonIpReputationList"
    priority = 30
    override_action {
      none {}
    }
    statement {
      managed_rule_group_statement {
        vendor_name = "AWS"
        name        = "AWSManagedRulesAmazonIpReputationList"
      }
    }
    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "AWSManagedRulesAmazonIpReputationList"
      sampled_requests_enabled   = true
    }
  }

  rule {
    name     = "rate-per-client"
    priority = 40
    action {
      block {}
    }
    statement {
      rate_based_statement {
        limit              = var.waf_requests_per_5_minutes
        aggregate_key_type = "FORWARDED_IP"
        forwarded_ip_config {
          header_name       = "X-Client-IP"
          fallback_behavior = "MATCH"
        }
      }
    }
    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "rate-per-client"
      sampled_requests_enabled   = true
    }
  }

  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = "${var.name}-api"
    sampled_requests_enabled   = true
  }
}

resource "aws_wafv2_web_acl_association" "alb" {
  resource_arn = aws_lb.this.arn
  web_acl_arn  = aws_wafv2_web_acl.api.arn
}

# WAF's log group name must start with aws-waf-logs-.
resource "aws_cloudwatch_log_group" "waf" {
  name              = "aws-waf-logs-${var.name}-api"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn
}

resource "aws_wafv2_web_acl_logging_configuration" "api" {
  resource_arn            = aws_wafv2_web_acl.api.arn
  log_destination_configs = [aws_cloudwatch_log_group.waf.arn]

  redacted_fields {
    single_header {
      name = "authorization" # the API keys
    }
  }
}

# ---- API Gateway ----
resource "aws_security_group" "vpc_link" {
  name        = "${var.name}-api-vpc-link"
  description = "API Gateway's VPC link: to the internal ALB only"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_egress_rule" "vpc_link_to_alb" {
  security_group_id            = aws_security_group.vpc_link.id
  description                  = "HTTPS to the internal ALB"
  referenced_security_group_id = aws_security_group.alb.id
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
}

resource "aws_apigatewayv2_vpc_link" "this" {
  name               = "${var.name}-api"
  subnet_ids         = var.subnet_ids
  security_group_ids = [aws_security_group.vpc_link.id]
}

resource "aws_apigatewayv2_api" "this" {
  name          = "${var.name}-api"
  protocol_type = "HTTP"
}

resource "aws_apigatewayv2_integration" "alb" {
  api_id             = aws_apigatewayv2_api.this.id
  integration_type   = "HTTP_PROXY"
  integration_method = "ANY"
  integration_uri    = aws_lb_listener.https.arn
  connection_type    = "VPC_LINK"
  connection_id      = aws_apigatewayv2_vpc_link.this.id

  tls_config {
    server_name_to_verify = var.api_domain_name
  }

  # Overwritten, not appended: a client cannot choose the address WAF's rate limit counts it under.
  request_parameters = {
    "overwrite:header.X-Client-IP" = "$context.identity.sourceIp"
  }
}

resource "aws_apigatewayv2_route" "all" {
  #checkov:skip=CKV_AWS_309:the application authenticates every request itself (Bearer keys checked against their stored hashes, merchant-scoped); a gateway authorizer would need a second copy of the key store
  api_id    = aws_apigatewayv2_api.this.id
  route_key = "$default"
  target    = "integrations/${aws_apigatewayv2_integration.alb.id}"
}

resource "aws_cloudwatch_log_group" "api_access" {
  name              = "/${var.name}/apigateway/access"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.this.id
  name        = "$default"
  auto_deploy = true

  default_route_settings {
    throttling_burst_limit = var.throttle_burst_limit
    throttling_rate_limit  = var.throttle_rate_limit
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.api_access.arn
    format = jsonencode({
      requestId      = "$context.requestId"
      ip             = "$context.identity.sourceIp"
      requestTime    = "$context.requestTime"
      method         = "$context.httpMethod"
      path           = "$context.path"
      status         = "$context.status"
      responseLength = "$context.responseLength"
      latency        = "$context.responseLatency"
      integration    = "$context.integrationErrorMessage"
    })
  }
}
