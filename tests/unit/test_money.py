"""Minor units shown as major units, exactly, for gold's exact sums too."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jobs.storage.currencies import major_units


@pytest.mark.parametrize(
    ("minor", "currency", "shown"),
    [
        (123456, "EUR", "1,234.56 EUR"),
        (-5, "EUR", "-0.05 EUR"),
        (1234, "JPY", "1,234 JPY"),
        (1234, "KWD", "1.234 KWD"),
        (Decimal(10**20 + 5), "USD", "1,000,000,000,000,000,000.05 USD"),
        (Decimal(-(10**37)), "JPY", f"-{10**37:,} JPY"),
    ],
)
def test_major_units_are_exact_whatever_the_size(minor, currency, shown):
    assert major_units(minor, currency) == shown
