"""ISO 4217 minor-unit exponents: how many decimals a currency's major unit has (gold holds money in minor units).
Plain Python, read by the Spark transforms, Trino's views, the report and the portal alike."""

from __future__ import annotations

from decimal import Decimal

# The currencies whose minor unit is not 1/100 (any other has 2). Left out: CLF and UYW (4 decimals), units of
# account that no order is paid in.
ZERO_DECIMALS = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
THREE_DECIMALS = "BHD IQD JOD KWD LYD OMR TND"
MINOR_UNIT_EXPONENTS = {**dict.fromkeys(ZERO_DECIMALS.split(), 0), **dict.fromkeys(THREE_DECIMALS.split(), 3)}
DEFAULT_EXPONENT = 2


def exponent_of(currency: str) -> int:
    return MINOR_UNIT_EXPONENTS.get(currency, DEFAULT_EXPONENT)


def major_units(minor: int | Decimal, currency: str) -> str:
    """`123456, "EUR"` -> `1,234.56 EUR`: exact, whatever the size (gold's exact sums arrive as whole Decimals)."""
    minor = int(minor)
    exponent = exponent_of(currency)
    whole, fraction = divmod(abs(minor), 10**exponent)
    sign = "-" if minor < 0 else ""
    return f"{sign}{whole:,}" + (f".{fraction:0{exponent}d}" if exponent else "") + f" {currency}"
