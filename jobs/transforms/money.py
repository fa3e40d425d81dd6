"""Money in integer minor units, and the ISO 4217 exponent that turns them into major units for people."""

from __future__ import annotations

from decimal import Decimal

from pyspark.sql import Column
from pyspark.sql import functions as F

# ISO 4217 minor-unit exponents of the currencies whose minor unit is not 1/100 (any other has 2). The report and
# Trino's analyst views (analyst.currency_units) both read this. Left out: CLF and UYW (4 decimals), units of account
# that no order is paid in.
ZERO_DECIMALS = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
THREE_DECIMALS = "BHD IQD JOD KWD LYD OMR TND"
MINOR_UNIT_EXPONENTS = {**dict.fromkeys(ZERO_DECIMALS.split(), 0), **dict.fromkeys(THREE_DECIMALS.split(), 3)}


def minor_unit_exponent(currency: Column) -> Column:
    exponents = F.create_map(*[F.lit(x) for pair in MINOR_UNIT_EXPONENTS.items() for x in pair])
    return F.coalesce(exponents[currency], F.lit(2))


def major_units(minor: int | Decimal, currency: str) -> str:
    """`123456, "EUR"` -> `1,234.56 EUR`: exact, whatever the size (gold's exact sums arrive as whole Decimals)."""
    minor = int(minor)
    exponent = MINOR_UNIT_EXPONENTS.get(currency, 2)
    whole, fraction = divmod(abs(minor), 10**exponent)
    sign = "-" if minor < 0 else ""
    return f"{sign}{whole:,}" + (f".{fraction:0{exponent}d}" if exponent else "") + f" {currency}"
