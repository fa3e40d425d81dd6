"""Synthetic commerce events with the shape of real traffic: deterministic for a given seed.

Merchants follow a Zipf-like size distribution (a few very large, a long tail of tiny ones). About 1% of records are
resent copies (same event_id), 2% arrive late (in the file of a later hour than their own), 0.5% are malformed in
every way the contract names, and some carry fields the contract does not know (kept in silver's `extra`). Odd-numbered
merchants run the newer client and send schema version 2 (a channel on most events, a discount on some orders, the
tax on most); the others still send version 1.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from jobs.transforms.contract import event_contract

EVENT_TYPES = ["page_view", "add_to_cart", "checkout_started", "order_placed", "order_refunded"]
EVENT_TYPE_SHARES = [0.70, 0.15, 0.07, 0.06, 0.02]
CHANNELS = event_contract(2).enums["channel"]
CURRENCIES = ["USD", "EUR", "GBP", "JPY", "CAD", "AUD", "INR", "BRL"]
# Local offsets events are stamped with; metrics still bucket by the UTC hour.
OFFSETS = [timedelta(0)] * 7 + [timedelta(hours=5, minutes=30), timedelta(hours=-8), timedelta(hours=9)]
PRODUCT_WORDS = [
    "linen",
    "shirt",
    "mug",
    "lamp",
    "wool",
    "socks",
    "desk",
    "chair",
    "green",
    "tea",
    "soap",
    "bag",
]
ZIPF_EXPONENT = 1.1


@dataclass(frozen=True)
class GeneratorConfig:
    events: int = 1_000_000
    hours: int = 48
    start: datetime = datetime(2026, 11, 1, tzinfo=UTC)
    merchants: int = 100_000
    seed: int = 7
    copy_rate: float = 0.01
    late_rate: float = 0.02
    malformed_rate: float = 0.005
    extra_field_rate: float = 0.005


def format_time(moment: datetime, offset: timedelta) -> str:
    """RFC 3339 with milliseconds, in the given local offset."""
    local = moment.astimezone(UTC) + offset
    if offset == timedelta(0):
        suffix = "Z"
    else:
        minutes = int(offset.total_seconds() // 60)
        sign = "+" if minutes >= 0 else "-"
        suffix = f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond // 1000:03d}" + suffix


def _dumps(event: dict) -> str:
    return json.dumps(event, separators=(",", ":"))


# Each turns a valid event into a record that silver must quarantine, with the reason it must give.
MALFORMATIONS: list[tuple[str, Callable[[dict], str]]] = [
    ("malformed_json", lambda e: _dumps(e)[:-7]),
    ("malformed_json", lambda e: "[" + _dumps(e) + "]"),
    ("missing_field:event_id", lambda e: _dumps({k: v for k, v in e.items() if k != "event_id"})),
    ("missing_field:merchant_id", lambda e: _dumps({**e, "merchant_id": None})),
    ("missing_field:occurred_at", lambda e: _dumps({k: v for k, v in e.items() if k != "occurred_at"})),
    ("missing_field:event_type", lambda e: _dumps({k: v for k, v in e.items() if k != "event_type"})),
    ("missing_field:schema_version", lambda e: _dumps({k: v for k, v in e.items() if k != "schema_version"})),
    (
        "missing_field:order_id",
        lambda e: _dumps(
            {**e, "event_type": "order_refunded", "currency": "USD", "amount_minor": 100, "order_id": None}
        ),
    ),
    ("bad_type:merchant_id", lambda e: _dumps({**e, "merchant_id": 12345})),
    ("bad_type:schema_version", lambda e: _dumps({**e, "schema_version": "1"})),
    (
        "bad_type:amount_minor",
        lambda e: _dumps(
            {
                **e,
                "event_type": "order_refunded",
                "order_id": "o-x",
                "currency": "EUR",
                "amount_minor": "12.50",
            }
        ),
    ),
    ("bad_value:event_id", lambda e: _dumps({**e, "event_id": "x" * 65})),
    ("bad_value:occurred_at", lambda e: _dumps({**e, "occurred_at": "yesterday at noon"})),
    (
        "bad_value:currency",
        lambda e: _dumps(
            {**e, "event_type": "order_refunded", "order_id": "o-x", "currency": "usd", "amount_minor": 5}
        ),
    ),
    (
        "bad_value:amount_minor",
        lambda e: _dumps(
            {**e, "event_type": "order_refunded", "order_id": "o-x", "currency": "GBP", "amount_minor": -5}
        ),
    ),
    ("unknown_event_type", lambda e: _dumps({**e, "event_type": "wishlist_add"})),
    ("unsupported_schema_version", lambda e: _dumps({**e, "schema_version": 99})),
    ("bad_value:channel", lambda e: _dumps({**e, "schema_version": 2, "channel": "tv"})),
    ("too_far_in_future", lambda e: _dumps({**e, "occurred_at": "2099-01-01T00:00:00Z"})),
]


class EventGenerator:
    def __init__(self, config: GeneratorConfig):
        self.config = config
        self.rng = np.random.default_rng(config.seed)
        ranks = np.arange(1, config.merchants + 1, dtype=np.float64)
        weights = ranks**-ZIPF_EXPONENT
        self.merchant_share = weights / weights.sum()

    def _order_items(self, merchant: int) -> tuple[list[dict], int]:
        rng = self.rng
        items, total = [], 0
        for _ in range(int(rng.integers(1, 4))):
            sku_number = int(rng.integers(0, 50))
            quantity = int(rng.integers(1, 4))
            # about 1,800 minor units: $18.00 or ¥1,800, the same order of value in either
            price = int(rng.lognormal(7.5, 0.8)) + 1
            name = f"{PRODUCT_WORDS[sku_number % 12]} {PRODUCT_WORDS[(sku_number // 12 + merchant) % 12]}"
            items.append(
                {
                    "sku": f"sku-{sku_number:03d}",
                    "name": name,
                    "quantity": quantity,
                    "unit_price_minor": price,
                }
            )
            total += quantity * price
        return items, total

    def _event(self, index: int, merchant: int, kind: str, moment: datetime, offset: timedelta) -> dict:
        rng = self.rng
        expected_events = max(1.0, self.merchant_share[merchant] * self.config.events)
        customer = int(rng.integers(0, max(3, int(expected_events / 6))))
        hour_index = int((moment - self.config.start).total_seconds() // 3600)
        event = {
            "event_id": f"e{self.config.seed:x}-{index:09d}",
            "event_type": kind,
            "merchant_id": f"m{merchant:06d}",
            "occurred_at": format_time(moment, offset),
            "schema_version": 1,
            "customer_id": None if customer % 5 == 0 else f"c{merchant}-{customer}",
            "session_id": f"s{merchant}-{customer}-{hour_index}",
        }
        home = CURRENCIES[merchant % len(CURRENCIES)]
        currency = home if rng.random() < 0.9 else CURRENCIES[(merchant + 1) % len(CURRENCIES)]
        if kind == "page_view":
            event["url"] = f"https://shop{merchant}.example/p/{int(rng.integers(0, 50))}"
        elif kind == "order_placed":
            items, amount = self._order_items(merchant)
            event.update(order_id=f"o{self.config.seed:x}-{index}", currency=currency, amount_minor=amount, items=items)
        elif kind == "order_refunded":
            earlier_order = int(rng.integers(0, index + 1))
            amount = int(rng.integers(100, 20_000))
            event.update(order_id=f"o{self.config.seed:x}-{earlier_order}", currency=currency, amount_minor=amount)
        if merchant % 2 == 1:
            self._upgrade_to_version_2(event, index)
        return event

    @staticmethod
    def _upgrade_to_version_2(event: dict, index: int) -> None:
        """Version 2 fields, chosen from the event's index so that the random draws (and so every other field) are
        the same as in version 1 traffic."""
        event["schema_version"] = 2
        if index % 10:
            event["channel"] = CHANNELS[index % len(CHANNELS)]
        if event["event_type"] == "order_placed":
            if index % 4 == 0:
                event["discount_minor"] = event["amount_minor"] // 10
            if index % 5:
                event["tax_minor"] = event["amount_minor"] // 6  # 20% VAT included in the amount

    def records_by_arrival_hour(self) -> list[list[str]]:
        """One list of JSON lines per hour of the window: what arrives in that hour, in arrival order."""
        config, rng = self.config, self.rng
        n = config.events
        merchants = rng.choice(config.merchants, size=n, p=self.merchant_share)
        kinds = rng.choice(len(EVENT_TYPES), size=n, p=EVENT_TYPE_SHARES)
        seconds = np.sort(rng.uniform(0, config.hours * 3600, size=n))
        offsets = rng.integers(0, len(OFFSETS), size=n)
        fate = rng.random(size=n)
        delay_hours = rng.integers(1, 25, size=n)
        malformation = rng.integers(0, len(MALFORMATIONS), size=n)

        arrivals: list[list[tuple[float, str]]] = [[] for _ in range(config.hours)]
        late_limit = config.late_rate
        copy_limit = late_limit + config.copy_rate
        malformed_limit = copy_limit + config.malformed_rate
        extra_limit = malformed_limit + config.extra_field_rate
        for i in range(n):
            moment = config.start + timedelta(seconds=float(seconds[i]))
            event = self._event(i, int(merchants[i]), EVENT_TYPES[kinds[i]], moment, OFFSETS[offsets[i]])
            hour = int(seconds[i] // 3600)
            arrival_second = float(seconds[i])
            if fate[i] < late_limit:  # late: lands in the file of a later hour
                hour = min(config.hours - 1, hour + int(delay_hours[i]))
                arrival_second = hour * 3600 + float(seconds[i]) % 3600
            elif fate[i] < copy_limit:  # resent: the same record again, up to a day later
                copy_hour = min(config.hours - 1, hour + int(delay_hours[i]) - 1)
                arrivals[copy_hour].append((copy_hour * 3600 + float(seconds[i]) % 3600, _dumps(event)))
            elif fate[i] < malformed_limit:
                line = MALFORMATIONS[malformation[i]][1](event)
                arrivals[hour].append((arrival_second, line))
                continue
            elif fate[i] < extra_limit:
                event["app_version"] = "3.2.1"
            arrivals[hour].append((arrival_second, _dumps(event)))
        return [[line for _, line in sorted(batch, key=lambda pair: pair[0])] for batch in arrivals]
