"""`lakehouse report`: rows per table, quarantine by reason, orders per channel, and the top merchants by net sales."""

from __future__ import annotations

import sys

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from jobs.runtime.commands import command_parser
from jobs.runtime.exits import run_entry
from jobs.runtime.session import spark_session
from jobs.runtime.settings import Settings, settings_from
from jobs.storage.currencies import major_units
from jobs.storage.delta import ensure_tables, read_table
from jobs.storage.tables import MERCHANT_HOURLY_CHANNEL_SALES, MERCHANT_HOURLY_SALES, QUARANTINE, TABLES
from jobs.transforms.money import minor_unit_exponent


def report_lines(spark: SparkSession, settings: Settings, top: int = 10) -> list[str]:
    ensure_tables(spark, settings, TABLES)
    lines = ["rows per table:"]
    lines += [f"  {name:<36}{read_table(spark, settings, name).count():>12,}" for name in TABLES]

    replayed = F.col("replayed_at").isNotNull()
    reasons = (
        read_table(spark, settings, QUARANTINE.name)
        .groupBy("reason")
        .agg(F.count_if(~replayed).alias("pending"), F.count_if(replayed).alias("replayed"))
        .orderBy(F.desc("pending"), "reason")
    )
    lines.append(f"quarantine by reason:{'pending':>23}{'replayed':>10}")
    lines += [f"  {row['reason']:<36}{row['pending']:>8,}{row['replayed']:>10,}" for row in reasons.collect()]

    channels = (
        read_table(spark, settings, MERCHANT_HOURLY_CHANNEL_SALES.name)
        .groupBy("channel")
        .agg(F.sum("orders").alias("orders"), F.count_if(F.col("discount_minor") > 0).alias("discounted"))
        .orderBy(F.desc("orders"), "channel")
    )
    lines.append(f"orders by channel:{'orders':>27}  rows with a discount")
    lines += [f"  {row['channel']:<36}{row['orders']:>8,}{row['discounted']:>10,}" for row in channels.collect()]

    net = (
        read_table(spark, settings, MERCHANT_HOURLY_SALES.name)
        .groupBy("merchant_id", "currency")
        .agg(F.sum("net_minor").alias("net_minor"), F.sum("orders").alias("orders"))
        .withColumn("net_major", F.col("net_minor") / F.pow(F.lit(10), minor_unit_exponent(F.col("currency"))))
        .orderBy(F.desc("net_major"), "merchant_id")
        .limit(top)
    )
    lines.append(f"top {top} merchants by net sales (per currency, ranked in major units):")
    lines += [
        f"  {row['merchant_id']:<12}{major_units(row['net_minor'], row['currency']):>24}{row['orders']:>9,} orders"
        for row in net.collect()
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    args = command_parser("report", __doc__).parse_args(argv)

    def work() -> None:
        settings = settings_from(args)
        with spark_session(settings, "report") as spark:
            print("\n".join(report_lines(spark, settings)))

    return run_entry("lakehouse report", work)


if __name__ == "__main__":
    sys.exit(main())
