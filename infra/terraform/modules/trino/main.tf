# Trino for analysts on ECS Fargate: one coordinator and autoscaled workers, the Delta Lake connector over the Glue
# catalog (the catalogs of infra/trino/, with this deployment's region and warehouse), HTTPS at an internal ALB.
data "aws_region" "current" {}

locals {
  region    = data.aws_region.current.region
  namespace = "${var.name}.trino.internal"
  port      = 8080

  # infra/trino/*.properties are the catalogs' one definition: read them, drop comments, and set what differs here.
  catalog_overrides = {
    "hive.metastore.glue.region"                = local.region
    "s3.region"                                 = local.region
    "hive.metastore.glue.default-warehouse-dir" = "s3://${var.lake_bucket_name}/warehouse"
  }
  catalogs = {
    for catalog in ["lakehouse", "lakehouse_registry"] : catalog => join("\n", [
      for line in split("\n", file("${path.module}/../../../trino/${catalog}.properties")) :
      contains(keys(local.catalog_overrides), split("=", line)[0])
      ? "${split("=", line)[0]}=${local.catalog_overrides[split("=", line)[0]]}"
      : line
      if trimspace(line) != "" && !startswith(trimspace(line), "#")
    ])
  }

  # TLS ends at the ALB, which sets X-Forwarded-Proto: Trino then takes passwords over its plain port.
  common_config = [
    "http-server.http.port=${local.port}",
    "http-server.process-forwarded=true",
    "internal-communication.shared-secret=$${ENV:TRINO_SHARED_SECRET}",
  ]
  node_config = {
    coordinator = join("\n", concat(local.common_config, [
      "coordinator=true",
      "node-scheduler.include-coordinator=false",
      "discovery.uri=http://localhost:${local.port}",
      "http-server.authentication.type=PASSWORD",
    ]))
    worker = join("\n", concat(local.common_config, [
      "coordinator=false",
      "discovery.uri=http://coordinator.${local.namespace}:${local.port}",
    ]))
  }

  # The official image reads /etc/trino; the task writes its settings there from its environment, then starts.
  start_command = <<-EOT
    set -eu
    printf '%s\n' "$TRINO_CONFIG" > /etc/trino/config.properties
    printf '%s\n' "$CATALOG_LAKEHOUSE" > /etc/trino/catalog/lakehouse.properties
    printf '%s\n' "$CATALOG_LAKEHOUSE_REGISTRY" > /etc/trino/catalog/lakehouse_registry.properties
    if [ "$TRINO_ROLE" = coordinator ]; then
      printf '%s\n' "$TRINO_PASSWORD_FILE" > /etc/trino/password.db
      printf 'password-authenticator.name=file\nfile.password-file=/etc/trino/password.db\n' > /etc/trino/password-authenticator.properties
    fi
    exec /usr/lib/trino/bin/run-trino
  EOT

  roles = {
    coordinator = { cpu = var.coordinator_cpu, memory = var.coordinator_memory }
    worker      = { cpu = var.worker_cpu, memory = var.worker_memory }
  }
}

resource "aws_ecr_repository" "trino" {
  name                 = "${var.name}/trino"
  image_tag_mutability = "IMMUTABLE"

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = var.kms_key_arn
  }
}

resource "aws_cloudwatch_log_group" "trino" {
  name              = "/${var.name}/ecs/trino"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn
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

data "aws_iam_policy_document" "execution" {
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"] # the registry login has no resource ARN
  }
  statement {
    sid       = "PullTheImage"
    actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
    resources = [aws_ecr_repository.trino.arn]
  }
  statement {
    sid       = "WriteLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.trino.arn}:*"]
  }
  statement {
    sid       = "TrinoSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [var.password_file_secret_arn, var.shared_secret_arn]
  }
  statement {
    sid       = "DecryptImageAndSecrets"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn, var.secrets_kms_key_arn]
  }
}

resource "aws_iam_role" "execution" {
  name               = "${var.name}-trino-execution"
  assume_role_policy = data.aws_iam_policy_document.tasks_assume.json
}

resource "aws_iam_role_policy" "execution" {
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

# Read-only on the lake; the Glue writes are the registry catalog's (schemas, table registrations, views).
data "aws_iam_policy_document" "task" {
  statement {
    sid       = "ListTheLake"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [var.lake_bucket_arn]
  }
  statement {
    sid       = "ReadTheLake"
    actions   = ["s3:GetObject"]
    resources = ["${var.lake_bucket_arn}/*"]
  }
  statement {
    sid       = "DecryptTheLake"
    actions   = ["kms:Decrypt", "kms:DescribeKey"]
    resources = [var.lake_kms_key_arn]
  }
  # The catalog's metadata is encrypted at rest: Glue decrypts it for reads and encrypts what the registry writes
  # (schemas, table registrations, views) with the caller's own KMS permissions.
  statement {
    sid       = "EncryptedCatalog"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
    resources = [var.catalog_kms_key_arn]
  }
  statement {
    sid = "GlueMetastore"
    actions = [
      "glue:GetDatabase", "glue:GetDatabases", "glue:GetTable", "glue:GetTables", "glue:GetPartition",
      "glue:GetPartitions", "glue:CreateTable", "glue:UpdateTable", "glue:DeleteTable", "glue:CreateDatabase",
    ]
    resources = concat([var.catalog_arn], var.database_arns, [for tables in var.table_arns : "${tables}/*"])
  }
}

resource "aws_iam_role" "task" {
  name               = "${var.name}-trino-task"
  assume_role_policy = data.aws_iam_policy_document.tasks_assume.json
}

resource "aws_iam_role_policy" "task" {
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.task.json
}

# ---- network ----
resource "aws_security_group" "trino" {
  name        = "${var.name}-trino"
  description = "Trino nodes: each other and the ALB in; endpoints and S3 out"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "trino_nodes" {
  security_group_id            = aws_security_group.trino.id
  description                  = "Coordinator and workers"
  referenced_security_group_id = aws_security_group.trino.id
  ip_protocol                  = "tcp"
  from_port                    = local.port
  to_port                      = local.port
}

resource "aws_vpc_security_group_ingress_rule" "trino_from_alb" {
  security_group_id            = aws_security_group.trino.id
  description                  = "Clients through the ALB"
  referenced_security_group_id = aws_security_group.alb.id
  ip_protocol                  = "tcp"
  from_port                    = local.port
  to_port                      = local.port
}

resource "aws_vpc_security_group_egress_rule" "trino_nodes" {
  security_group_id            = aws_security_group.trino.id
  description                  = "Coordinator and workers"
  referenced_security_group_id = aws_security_group.trino.id
  ip_protocol                  = "tcp"
  from_port                    = local.port
  to_port                      = local.port
}

resource "aws_vpc_security_group_egress_rule" "trino_https_vpc" {
  security_group_id = aws_security_group.trino.id
  description       = "Interface endpoints (Glue, ECR, logs, secrets)"
  cidr_ipv4         = var.vpc_cidr
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_egress_rule" "trino_gateways" {
  for_each = toset(var.gateway_prefix_list_ids)

  security_group_id = aws_security_group.trino.id
  description       = "S3 through its gateway endpoint"
  prefix_list_id    = each.key
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_service_discovery_private_dns_namespace" "trino" {
  name = local.namespace
  vpc  = var.vpc_id
}

resource "aws_service_discovery_service" "coordinator" {
  name = "coordinator"

  dns_config {
    namespace_id = aws_service_discovery_private_dns_namespace.trino.id
    dns_records {
      type = "A"
      ttl  = 10
    }
  }
}

# ---- tasks and services ----
resource "aws_ecs_task_definition" "trino" {
  #checkov:skip=CKV_AWS_336:the start command writes Trino's settings into /etc/trino, and Trino spills to its data directory
  for_each = local.roles

  family                   = "${var.name}-trino-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = each.value.cpu
  memory                   = each.value.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  container_definitions = jsonencode([{
    name         = "trino"
    image        = "${aws_ecr_repository.trino.repository_url}:${var.image_tag}"
    essential    = true
    entryPoint   = ["/bin/sh", "-c"]
    command      = [local.start_command]
    portMappings = [{ containerPort = local.port, protocol = "tcp" }]
    environment = [
      { name = "TRINO_ROLE", value = each.key },
      { name = "TRINO_CONFIG", value = local.node_config[each.key] },
      { name = "CATALOG_LAKEHOUSE", value = local.catalogs["lakehouse"] },
      { name = "CATALOG_LAKEHOUSE_REGISTRY", value = local.catalogs["lakehouse_registry"] },
    ]
    secrets = concat(
      [{ name = "TRINO_SHARED_SECRET", valueFrom = var.shared_secret_arn }],
      each.key == "coordinator" ? [{ name = "TRINO_PASSWORD_FILE", valueFrom = var.password_file_secret_arn }] : [],
    )
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.trino.name
        awslogs-region        = local.region
        awslogs-stream-prefix = each.key
      }
    }
  }])
}

resource "aws_ecs_service" "coordinator" {
  name             = "trino-coordinator"
  cluster          = var.cluster_arn
  task_definition  = aws_ecs_task_definition.trino["coordinator"].arn
  desired_count    = 1 # Trino has one coordinator; ECS replaces it if it dies
  launch_type      = "FARGATE"
  platform_version = "LATEST"
  propagate_tags   = "SERVICE"

  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = [aws_security_group.trino.id]
    assign_public_ip = false
  }

  service_registries {
    registry_arn = aws_service_discovery_service.coordinator.arn
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.coordinator.arn
    container_name   = "trino"
    container_port   = local.port
  }

  depends_on = [aws_lb_listener.https]
}

resource "aws_ecs_service" "workers" {
  name             = "trino-workers"
  cluster          = var.cluster_arn
  task_definition  = aws_ecs_task_definition.trino["worker"].arn
  desired_count    = var.min_workers
  launch_type      = "FARGATE"
  platform_version = "LATEST"
  propagate_tags   = "SERVICE"

  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = [aws_security_group.trino.id]
    assign_public_ip = false
  }

  lifecycle {
    ignore_changes = [desired_count]
  }
}

resource "aws_appautoscaling_target" "workers" {
  service_namespace  = "ecs"
  resource_id        = "service/${var.cluster_name}/${aws_ecs_service.workers.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.min_workers
  max_capacity       = var.max_workers
}

resource "aws_appautoscaling_policy" "workers_cpu" {
  name               = "${var.name}-trino-workers-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.workers.service_namespace
  resource_id        = aws_appautoscaling_target.workers.resource_id
  scalable_dimension = aws_appautoscaling_target.workers.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.worker_cpu_target_percent
    scale_in_cooldown  = 600 # a worker removed mid-query fails that query: scale in slowly
    scale_out_cooldown = 60
    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}

# ---- the internal load balancer (HTTPS) ----
resource "aws_security_group" "alb" {
  name        = "${var.name}-trino-alb"
  description = "Trino's internal ALB: HTTPS from the VPC"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "alb" {
  security_group_id = aws_security_group.alb.id
  description       = "HTTPS from the VPC (analysts, notebooks, trino-register)"
  cidr_ipv4         = var.vpc_cidr
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_egress_rule" "alb" {
  security_group_id            = aws_security_group.alb.id
  description                  = "To the coordinator"
  referenced_security_group_id = aws_security_group.trino.id
  ip_protocol                  = "tcp"
  from_port                    = local.port
  to_port                      = local.port
}

resource "aws_lb" "trino" {
  #checkov:skip=CKV2_AWS_28:internal load balancer reachable only from inside the VPC, with password authentication at Trino; no internet traffic for a WAF to filter
  name                       = "${var.name}-trino"
  internal                   = true
  load_balancer_type         = "application"
  subnets                    = var.subnet_ids
  security_groups            = [aws_security_group.alb.id]
  drop_invalid_header_fields = true
  enable_deletion_protection = var.deletion_protection
  idle_timeout               = 300 # long-running queries keep their connection

  access_logs {
    bucket  = var.access_logs_bucket
    prefix  = "alb"
    enabled = true
  }
}

resource "aws_lb_target_group" "coordinator" {
  #checkov:skip=CKV_AWS_378:TLS ends at the ALB; the hop to the coordinator stays inside the private subnets (Trino trusts X-Forwarded-Proto)
  name        = "${var.name}-trino"
  port        = local.port
  protocol    = "HTTP" # inside the VPC; TLS ends at the ALB
  target_type = "ip"
  vpc_id      = var.vpc_id

  health_check {
    path    = "/v1/info"
    matcher = "200"
  }
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.trino.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.coordinator.arn
  }
}
