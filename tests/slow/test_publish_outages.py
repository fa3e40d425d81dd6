"""Publishing through an outage: a server stopped mid-publish leaves the rest pending and the next publish ends
exact. (A continuous run riding out a sink's outage: tests/heavy/test_continuous_outage.py.)"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import date

import pytest

from jobs import publish, services
from jobs.sinks import SINKS, influx, search
from jobs.sinks.influx import MEASUREMENTS
from jobs.sinks.search import INDICES
from jobs.storage.delta import read_table
from testkit.lakehouses import copy_of
from testkit.published import first_difference, gold_documents, gold_points, influx_points, search_documents

LATE_DAY = date(2026, 11, 22)


def test_a_server_stopped_mid_publish_leaves_the_rest_pending_and_the_next_publish_ends_exact(
    spark, small_lakehouse, published, tmp_path, session_service_settings, monkeypatch
):
    # OpenSearch, published second: InfluxDB's tables are done when it stops, and its first index is too.
    down = "opensearch"
    published = copy_of(small_lakehouse, tmp_path, onto=published)  # gold, not yet published
    short_wait = replace(published, publish_max_wait_seconds=2.0)
    sink = SINKS[down]
    tables = list(sink.targets)

    # The server is stopped right after the sink's first table was written: its second table cannot be.
    write = type(sink).write

    def write_then_stop_after_the_first_table(self, settings, table, rows):
        written = write(self, settings, table, rows)
        if table == tables[0]:
            services.down([down], settings=session_service_settings, quiet=True)
        return written

    monkeypatch.setattr(type(sink), "write", write_then_stop_after_the_first_table)
    try:
        with pytest.raises(Exception, match=r"(?i)connect|refused"):
            publish.run(spark, short_wait)
        monkeypatch.undo()
        # Only what the sinks acknowledged is marked published: InfluxDB's tables and OpenSearch's first index.
        progress = read_table(spark, short_wait, "ops.publish_progress").collect()
        done = {(row.sink, row.table) for row in progress}
        assert done == {(down, tables[0])} | {("influxdb", t) for t in MEASUREMENTS}

        # Down when the next publish starts, back 1 s later: the retries with backoff carry it through.
        back = {"settings": session_service_settings, "quiet": True}
        restart = threading.Timer(1.0, services.up, args=([down],), kwargs=back)
        restart.start()
        started = time.monotonic()
        # A restarted OpenSearch node may take a while on two busy cores: a wait that covers its start.
        report = publish.run(spark, replace(published, publish_max_wait_seconds=90.0))
        restart.join()
    finally:
        services.up([down], settings=session_service_settings, quiet=True)
    assert time.monotonic() - started < 90.0 + 60
    pending = len(MEASUREMENTS) + len(INDICES) - len(done)
    assert report.rows_in == pending
    client = influx.client(published.influxdb_url, published.influxdb_login)
    assert first_difference(influx_points(client, published.influxdb_database), gold_points(spark, published)) == ""
    searcher = search.client(published.opensearch_url)
    assert (
        first_difference(search_documents(searcher, published.opensearch_prefix), gold_documents(spark, published))
        == ""
    )
