"""Points to delete become few statements: one per second, its series joined by OR (InfluxDB's cost is per
statement)."""

from __future__ import annotations

from jobs.sinks import influx


def test_deletions_are_grouped_by_second_and_chunked(monkeypatch):
    monkeypatch.setattr(influx, "SELECTORS_PER_DELETE", 2)
    points = [(7200, "(a)"), (3600, "(b)"), (7200, "(c)"), (7200, "(d)")]
    assert influx.deletion_statements("m", points) == [
        'DELETE FROM "m" WHERE ((b)) AND time >= 3600s AND time < 3601s',
        'DELETE FROM "m" WHERE ((a) OR (c)) AND time >= 7200s AND time < 7201s',
        'DELETE FROM "m" WHERE ((d)) AND time >= 7200s AND time < 7201s',
    ]
    assert influx.deletion_statements("m", []) == []
