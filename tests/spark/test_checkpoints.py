"""A stream killed while it wrote its first offsets starts again (the kill drills found it)."""

from __future__ import annotations

import json
from pathlib import Path

from jobs import bronze
from jobs.sources import parse_source
from jobs.storage.delta import read_table
from testkit.events import event


def test_a_stream_killed_while_writing_its_first_offsets_starts_again(spark, settings, tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "events.jsonl").write_text(json.dumps(event()) + "\n")
    # What a SIGKILL between writing batch 0's offsets under a temporary name and renaming them leaves behind.
    offsets = Path(settings.checkpoint_path("bronze"), "offsets")
    offsets.mkdir(parents=True)
    (offsets / ".0.b73a222c-c188-459e-abdf-81057aee4737.tmp").write_text('v1\n{"batchWatermarkMs":0}\n')
    (offsets / "..0.b73a222c-c188-459e-abdf-81057aee4737.tmp.crc").write_bytes(b"crc\x00")

    bronze.run(spark, settings, parse_source(f"files:{landing}"))

    assert read_table(spark, settings, "bronze.events").count() == 1
    assert sorted(entry.name for entry in offsets.iterdir() if not entry.name.startswith(".")) == ["0"]
