"""The generator's traffic has the shape the design asks for: skew, copies, late and malformed records."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta

from jobs.devtools.synthetic import MALFORMATIONS, EventGenerator, GeneratorConfig, format_time

CONFIG = GeneratorConfig(events=50_000, hours=24, merchants=5_000, seed=1)


def test_merchants_are_zipf_skewed_and_shares_match_the_rates():
    batches = EventGenerator(CONFIG).records_by_arrival_hour()
    lines = [line for batch in batches for line in batch]
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except ValueError:
            continue
    per_merchant = Counter(e.get("merchant_id") for e in parsed if isinstance(e, dict))
    sizes = sorted(per_merchant.values(), reverse=True)
    assert sizes[0] > 50 * sizes[len(sizes) // 2]  # the largest merchant dwarfs the median one
    ids = Counter(e.get("event_id") for e in parsed if isinstance(e, dict))
    copies = sum(count - 1 for count in ids.values() if count > 1)
    assert 0.007 * CONFIG.events < copies < 0.013 * CONFIG.events
    late = 0
    for hour, batch in enumerate(batches):
        for line in batch:
            event = json.loads(line) if line.startswith("{") and line.endswith("}") else {}
            stamp = event.get("occurred_at")
            z_stamped_same_day = isinstance(stamp, str) and stamp.endswith("Z") and stamp[:10] == "2026-11-01"
            if z_stamped_same_day and int(stamp[11:13]) < hour:
                late += 1
    assert late > 0.01 * CONFIG.events * 0.7  # Z-stamped share of the 2% late events


def test_every_malformation_kind_of_the_contract_is_generated():
    kinds = {reason.split(":")[0] for reason, _ in MALFORMATIONS}
    assert kinds == {
        "malformed_json",
        "missing_field",
        "bad_type",
        "bad_value",
        "unknown_event_type",
        "unsupported_schema_version",
        "too_far_in_future",
    }


def test_format_time_renders_local_offsets():
    moment = CONFIG.start + timedelta(hours=20, milliseconds=5)
    assert format_time(moment, timedelta(0)) == "2026-11-01T20:00:00.005Z"
    assert format_time(moment, timedelta(hours=5, minutes=30)) == "2026-11-02T01:30:00.005+05:30"
    assert format_time(moment, timedelta(hours=-8)) == "2026-11-01T12:00:00.005-08:00"
