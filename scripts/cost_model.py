"""The cost of the AWS deployment per billion events, from the sizes in an environment's tfvars (infra/terraform),
the throughputs measured on this project (docs/performance.md) and AWS's on-demand list prices, set against the
published figure of AWS's Clickstream Analytics solution: about $153 per billion events for processing and
modeling, $13-56 for ingestion.

    .venv/bin/python scripts/cost_model.py                        (1 billion events a day)
    .venv/bin/python scripts/cost_model.py --events-per-request 10

It prices prod (envs/prod): its instance types are the ones priced below.

A model, not a bill: the prices below are us-east-1 list prices as last known (this machine reaches no price list;
eu-west-1, prod's region, is within about 10% of them), without free tiers, savings plans or reserved capacity.
Re-price them before relying on the result. What each figure assumes is printed beside it.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass

from jobs.devtools.terraform import MODULES, evaluate, expression, load, module_locals, tfvars, unquote

HOURS_PER_DAY = 24
DAYS_PER_MONTH = 30
GB = 1e9

# USD, on-demand list prices (us-east-1).
PRICE = {
    "api_gateway_http_per_million": 1.00,  # HTTP API, first 300 M a month ($0.90 after), per 512 KB request unit
    "waf_per_million_requests": 0.60,
    "waf_acl_and_rules_per_month": 5.0 + 4 * 1.0,  # the web ACL and its four rules
    "alb_per_hour": 0.0225,
    "alb_per_lcu_hour": 0.008,  # an LCU is 1 GB processed an hour, among other dimensions
    "fargate_per_vcpu_hour": 0.04048,
    "fargate_per_gb_hour": 0.004445,
    "kinesis_per_shard_hour": 0.015,
    "kinesis_per_million_put_units": 0.014,  # a PUT payload unit is 25 KB
    "kinesis_extended_retention_per_shard_hour": 0.020,  # retention past 24 h, up to 7 days
    "emr_serverless_per_vcpu_hour": 0.052624,
    "emr_serverless_per_gb_hour": 0.0057785,
    "s3_standard_per_gb_month": 0.023,
    "s3_standard_ia_per_gb_month": 0.0125,
    "s3_glacier_ir_per_gb_month": 0.004,
    "s3_per_thousand_writes": 0.005,  # PUT, COPY, POST, LIST
    "dynamodb_per_million_writes": 0.625,  # on-demand write request units
    "mwaa_medium_per_hour": 0.74,
    "mwaa_small_per_hour": 0.49,
    "mwaa_extra_worker_per_hour": 0.11,  # mw1.medium workers beyond the one included
    "opensearch_r7g_large_per_hour": 0.167,
    "opensearch_m7g_large_per_hour": 0.136,
    "opensearch_gp3_per_gb_month": 0.122,
    "influxdb_2xlarge_per_hour": 0.836,  # db.influx.2xlarge, single-AZ; multi-AZ twice that
    "influxdb_storage_per_gb_month": 0.20,
    "interface_endpoint_per_az_hour": 0.01,
    "cloudwatch_logs_per_gb": 0.50,
}

# Measured on this project (docs/performance.md), each on a 2-core machine.
CONTINUOUS_EVENTS_PER_VCPU_SECOND = 2_700  # lakehouse run --trigger: 5,396-6,916 events/s on 2 cores
INGEST_EVENTS_PER_VCPU_SECOND = 27_500  # the ingestion API: 55,000 events/s on a core with Kafka, halved for Kinesis
# bronze 60 B and silver 37 B of Parquet per synthetic event of 235 B of JSON (the demo's warehouse): 0.41 of it
STORED_BYTES_PER_EVENT_BYTE = 97 / 235
S3_WRITES_PER_MICRO_BATCH = 150  # make bench-s3: 1,891 requests for three stages' commits, most of them per commit


@dataclass(frozen=True)
class Cost:
    group: str
    item: str
    per_day: float
    assumes: str


def module_default(module: str, variable: str):
    """A module variable's default, from its variables.tf."""
    for entry in load(MODULES / module / "variables.tf").get("variable", []):
        if unquote(next(iter(entry))) == variable:
            return unquote(next(iter(entry.values())).get("default"))
    raise KeyError(f"modules/{module} declares no variable {variable}")


def shard_count(values: dict) -> int:
    """Prod's shards, by the stream module's own formula."""
    stream_locals = module_locals("stream")
    return int(evaluate(expression(stream_locals["shard_count"]), values, stream_locals))


def costs(values: dict, events_per_day: float, events_per_request: float) -> list[Cost]:
    per_second = events_per_day / 86_400
    peak = float(values["peak_events_per_second"])
    event_bytes = float(values["event_size_bytes"])
    requests = events_per_day / events_per_request
    shards = shard_count(values)
    bytes_in = events_per_day * event_bytes

    ingest_tasks = max(int(values["ingest_min_tasks"]), math.ceil(per_second / INGEST_EVENTS_PER_VCPU_SECOND))
    task = PRICE["fargate_per_vcpu_hour"] + 2 * PRICE["fargate_per_gb_hour"]  # 1 vCPU, 2 GB
    worker_vcpu = float(module_default("spark", "worker_vcpu"))
    worker_gb = float(module_default("spark", "worker_memory_gb"))
    workers = 1 + int(values["emr_initial_executors"])  # the driver and the warm executors of the streaming job
    spark_vcpu_hour = (
        PRICE["emr_serverless_per_vcpu_hour"] + worker_gb / worker_vcpu * PRICE["emr_serverless_per_gb_hour"]
    )
    stored_gb = events_per_day * event_bytes * STORED_BYTES_PER_EVENT_BYTE / GB
    trigger_seconds = float(module_default("spark", "streaming_trigger").removesuffix(" seconds"))
    micro_batches = 86_400 / trigger_seconds
    opensearch_nodes = int(values["opensearch_instance_count"])
    influx_instances = 2 if values["influxdb_multi_az"] else 1
    trino_vcpu = 4 + int(values["trino_min_workers"]) * float(values["trino_worker_cpu"]) / 1024
    trino_gb = 16 + int(values["trino_min_workers"]) * float(values["trino_worker_memory"]) / 1024
    mwaa_hour = PRICE[f"mwaa_{values['mwaa_environment_class'].removeprefix('mw1.')}_per_hour"]
    endpoints = len(module_default("network", "interface_endpoints"))

    return [
        Cost(
            "ingestion",
            "API Gateway HTTP API",
            requests / 1e6 * PRICE["api_gateway_http_per_million"],
            f"{requests / 1e6:,.0f} M requests of {events_per_request:,.0f} events",
        ),
        Cost(
            "ingestion",
            "WAF",
            requests / 1e6 * PRICE["waf_per_million_requests"] + PRICE["waf_acl_and_rules_per_month"] / DAYS_PER_MONTH,
            "every request inspected",
        ),
        Cost(
            "ingestion",
            "load balancer",
            HOURS_PER_DAY * PRICE["alb_per_hour"] + bytes_in / GB * PRICE["alb_per_lcu_hour"],
            f"{bytes_in / GB:,.0f} GB a day, 1 LCU per GB",
        ),
        Cost(
            "ingestion",
            "ingestion API on Fargate",
            ingest_tasks * HOURS_PER_DAY * task,
            f"{ingest_tasks} tasks of 1 vCPU, {INGEST_EVENTS_PER_VCPU_SECOND:,} events/s each",
        ),
        Cost(
            "ingestion",
            "Kinesis shards",
            shards * HOURS_PER_DAY * PRICE["kinesis_per_shard_hour"],
            f"{shards} shards for {peak:,.0f}/s at peak (the stream module's formula)",
        ),
        Cost(
            "ingestion",
            "Kinesis PUT units",
            events_per_day / 1e6 * math.ceil(event_bytes / 25_000) * PRICE["kinesis_per_million_put_units"],
            "one record per event",
        ),
        Cost(
            "ingestion",
            "Kinesis 7-day retention",
            shards * HOURS_PER_DAY * PRICE["kinesis_extended_retention_per_shard_hour"],
            "the design's replay window; 24 h is free",
        ),
        Cost(
            "processing",
            "Spark streaming job (warm capacity)",
            workers * worker_vcpu * HOURS_PER_DAY * spark_vcpu_hour,
            f"{workers} workers of {worker_vcpu:.0f} vCPU; the peak needs "
            f"{peak / CONTINUOUS_EVENTS_PER_VCPU_SECOND:,.0f} vCPU at {CONTINUOUS_EVENTS_PER_VCPU_SECOND:,}/s",
        ),
        Cost(
            "processing",
            "Spark hourly checks and maintenance",
            3 * HOURS_PER_DAY * 0.1 * 2 * worker_vcpu * spark_vcpu_hour,
            "3 jobs an hour, 6 minutes each on 2 workers",
        ),
        Cost(
            "processing",
            "S3 requests",
            micro_batches * S3_WRITES_PER_MICRO_BATCH / 1000 * PRICE["s3_per_thousand_writes"],
            f"a micro-batch every {trigger_seconds:.0f} s",
        ),
        Cost(
            "processing",
            "DynamoDB log store",
            micro_batches * 10 * 2 / 1e6 * PRICE["dynamodb_per_million_writes"],
            "two writes per commit, ten tables",
        ),
        Cost(
            "processing",
            "Airflow (MWAA)",
            HOURS_PER_DAY * (mwaa_hour + (int(values["mwaa_min_workers"]) - 1) * PRICE["mwaa_extra_worker_per_hour"]),
            f"{values['mwaa_environment_class']}",
        ),
        Cost(
            "storage",
            "S3, the first month",
            stored_gb * PRICE["s3_standard_per_gb_month"],
            f"{stored_gb:,.0f} GB of bronze and silver a day, a month in S3 Standard",
        ),
        Cost(
            "serving",
            "Timestream for InfluxDB",
            influx_instances * HOURS_PER_DAY * PRICE["influxdb_2xlarge_per_hour"]
            + float(values["influxdb_storage_gb"]) * PRICE["influxdb_storage_per_gb_month"] / DAYS_PER_MONTH,
            f"{values['influxdb_instance_type']}{', multi-AZ' if influx_instances == 2 else ''}",
        ),
        Cost(
            "serving",
            "OpenSearch",
            HOURS_PER_DAY
            * opensearch_nodes
            * (
                PRICE["opensearch_r7g_large_per_hour"]
                + (PRICE["opensearch_m7g_large_per_hour"] if values["opensearch_dedicated_masters"] else 0)
            )
            + opensearch_nodes
            * float(values["opensearch_volume_gb"])
            * PRICE["opensearch_gp3_per_gb_month"]
            / DAYS_PER_MONTH,
            f"{opensearch_nodes} data nodes and masters",
        ),
        Cost(
            "serving",
            "portal on Fargate",
            int(values["portal_min_tasks"]) * HOURS_PER_DAY * task,
            f"{values['portal_min_tasks']} tasks",
        ),
        Cost(
            "serving",
            "Trino on Fargate",
            HOURS_PER_DAY * (trino_vcpu * PRICE["fargate_per_vcpu_hour"] + trino_gb * PRICE["fargate_per_gb_hour"]),
            f"coordinator and {values['trino_min_workers']} workers",
        ),
        Cost(
            "platform",
            "VPC interface endpoints",
            endpoints * int(values["az_count"]) * HOURS_PER_DAY * PRICE["interface_endpoint_per_az_hour"],
            f"{endpoints} endpoints in {values['az_count']} zones",
        ),
        Cost("platform", "CloudWatch logs", 5 * PRICE["cloudwatch_logs_per_gb"], "5 GB of logs a day"),
    ]


def positive_number(text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        number = 0.0
    if not number > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return number


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cost_model", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events-per-day", type=positive_number, default=1e9)
    parser.add_argument("--events-per-request", type=positive_number, default=50, help="events a store sends at once")
    args = parser.parse_args(argv)

    items = costs(tfvars("prod"), args.events_per_day, args.events_per_request)
    scale = 1e9 / args.events_per_day
    print(f"prod, {args.events_per_day:,.0f} events a day, {args.events_per_request:,.0f} events a request")
    print(f"{'':<10} {'':<40} {'$ a day':>9} {'$ per B':>9}  assumes")
    for cost in items:
        print(f"{cost.group:<10} {cost.item:<40} {cost.per_day:>9,.2f} {cost.per_day * scale:>9,.2f}  {cost.assumes}")
    groups: dict[str, float] = {}
    for cost in items:
        groups[cost.group] = groups.get(cost.group, 0.0) + cost.per_day * scale
    print()
    for group, total in groups.items():
        print(f"{group:<10} {total:>10,.2f} $ per billion events")
    print(f"{'total':<10} {sum(groups.values()):>10,.2f} $ per billion events")
    print()
    print(
        f"against Clickstream Analytics: ingestion {groups['ingestion']:,.0f} (theirs 13-56), processing and "
        f"modeling {groups['processing']:,.0f} (theirs 153)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
