"""`lakehouse report`: rows per table, quarantine by reason, orders per channel, and the top merchants by net sales."""

from __future__ import annotations

import sys

from pyspark.sql import Column, SparkSession
from pyspark.sql import functions as F

from jobs.entry import run_entry, spark_session
from jobs.settings import JobArgumentParser, Settings, add_settings_arguments, settings_from
from jobs.tables import TABLES, ensure_tables, read_table

# ISO 4217 minor-unit exponents of the currencies whose minor unit is not 1/100 (any other has 2). The report and
# Trino's analyst views (analyst.currency_units) both read this. Left out: CLF and UYW (4 decimals), units of account
# that no order is paid in.
ZERO_DECIMALS = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
THREE_DECIMALS = "BHD IQD JOD KWD LYD OMR TND"
MINOR_UNIT_EXPONENTS = {**dict.fromkeys(ZERO_DECIMALS.split(), 0), **dict.fromkeys(THREE_DECIMALS.split(), 3)}


def minor_unit_exponent(currency: Column) -> Column:
    exponents = F.create_map(*[F.lit(x) for pair in MINOR_UNIT_EXPONENTS.items() for x in pair])
    return F.coalesce(exponents[currency], F.lit(2))


def major_units(minor: int, currency: str) -> str:
    exponent = MINOR_UNIT_EXPONENTS.get(currency, 2)
    whole, fraction = divmod(abs(minor), 10**exponent)
    sign = "-" if minor < 0 else ""
    return f"{sign}{whole:,}" + (f".{fraction:0{exponent}d}" if exponent else "") + f" {currency}"


def report_lines(spark: SparkSession, settings: Settings, top: int = 10) -> list[str]:
    ensure_tables(spark, settings, TABLES)
    lines = ["rows per table:"]
    lines += [f"  {name:<36}{read_table(spark, settings, name).count():>12,}" for name in TABLES]

    replayed = F.col("replayed_at").isNotNull()
    reasons = (
        read_table(spark, settings, "silver.quarantine")
        .groupBy("reason")
        .agg(F.count_if(~replayed).alias("pending"), F.count_if(replayed).alias("replayed"))
        .orderBy(F.desc("pending"), "reason")
    )
    lines.append(f"quarantine by reason:{'pending':>23}{'replayed':>10}")
    lines += [f"  {row['reason']:<36}{row['pending']:>8,}{row['replayed']:>10,}" for row in reasons.collect()]

    channels = (
        read_table(spark, settings, "gold.merchant_hourly_channel_sales")
        .groupBy("channel")
        .agg(F.sum("orders").alias("orders"), F.count_if(F.col("discount_minor") > 0).alias("discounted"))
        .orderBy(F.desc("orders"), "channel")
    )
    lines.append(f"orders by channel:{'orders':>27}  rows with a discount")
    lines += [f"  {row['channel']:<36}{row['orders']:>8,}{row['discounted']:>10,}" for row in channels.collect()]

    net = (
        read_table(spark, settings, "gold.merchant_hourly_sales")
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


def build_parser() -> JobArgumentParser:
    parser = JobArgumentParser(prog="lakehouse report", description=__doc__.splitlines()[0])
    add_settings_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def work() -> None:
        settings = settings_from(args)
        with spark_session(settings, "report") as spark:
            print("\n".join(report_lines(spark, settings)))

    return run_entry("lakehouse report", work)


if __name__ == "__main__":
    sys.exit(main())
