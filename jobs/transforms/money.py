"""Money in integer minor units, and the ISO 4217 exponent (jobs/storage/currencies.py) as a Spark column."""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

from jobs.storage.currencies import DEFAULT_EXPONENT, MINOR_UNIT_EXPONENTS


def minor_unit_exponent(currency: Column) -> Column:
    exponents = F.create_map(*[F.lit(x) for pair in MINOR_UNIT_EXPONENTS.items() for x in pair])
    return F.coalesce(exponents[currency], F.lit(DEFAULT_EXPONENT))
