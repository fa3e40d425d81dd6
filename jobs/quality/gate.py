"""Quality gates: the suites of quality/expectations.py, run by Great Expectations on every silver batch and every
recomputed gold slice.

A failed critical expectation stops the slice before any of it is written: the job exits with status 3 and one line
naming what failed, and a rerun after the fix publishes it. A failed warning is printed and recorded, and the slice
is written. Every validation result is kept under <warehouse>/_quality: `results/<date>/<table>/<time> <slice>.json`
(GX's result plus the verdict) and GX's HTML data docs of every slice that failed an expectation in `docs/`.
`lakehouse quality --date D` summarises one day.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame

from jobs.quality.expectations import CRITICAL, GATED_TABLES, expectations, with_rule_columns
from jobs.runtime.exits import QualityGateFailed
from jobs.runtime.settings import Settings, is_local
from jobs.storage.files import Location, location

QUALITY_FOLDER = "_quality"
_KEPT_FOLDERS: list[tempfile.TemporaryDirectory] = []  # data docs built for warehouses on S3, until the process ends
GX_LOCK = threading.Lock()

# GX would otherwise try to send usage statistics (no network here, and none wanted from a pipeline).
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


@dataclass(frozen=True)
class Verdict:
    table: str
    slice: str
    failed_critical: tuple[str, ...]
    failed_warnings: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.failed_critical

    def reason(self) -> str:
        return f"quality gate failed for {self.table} ({self.slice}): {'; '.join(self.failed_critical)}"

    def warning(self) -> str:
        return f"quality warning for {self.table} ({self.slice}): {'; '.join(self.failed_warnings)}"


def results_folder(settings: Settings) -> Location:
    return location(settings, settings.warehouse).child(QUALITY_FOLDER)


def docs_building_folder(settings: Settings) -> Path:
    """Where GX builds the data docs: in the warehouse when it is local; for one on S3, in a local folder of its own
    (GX writes a site to a local folder only), which is uploaded to <warehouse>/_quality/docs after each build."""
    if is_local(settings.warehouse):
        return Path(settings.warehouse, QUALITY_FOLDER, "docs")
    return _building_folder(settings.warehouse)


@cache
def _building_folder(warehouse: str) -> Path:
    """A temporary folder of this process's own for the warehouse's data docs (removed when the process ends)."""
    folder = tempfile.TemporaryDirectory(prefix="lakehouse-data-docs-")
    _KEPT_FOLDERS.append(folder)
    return Path(folder.name)


@cache
def _validations() -> tuple[Any, dict[str, Any]]:
    """GX's ephemeral context and one validation definition per gated table, built once per process (about 6 s)."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_spark("lakehouse")
    validations = {}
    for table in GATED_TABLES:
        batch = source.add_dataframe_asset(table).add_batch_definition_whole_dataframe("slice")
        suite = context.suites.add(gx.ExpectationSuite(table, expectations=[e.build() for e in expectations(table)]))
        validations[table] = context.validation_definitions.add(
            gx.ValidationDefinition(name=table, data=batch, suite=suite)
        )
    return context, validations


@cache
def _quick_checkpoints() -> dict[str, Any]:
    """Per gated table, the checkpoint every slice runs: pass or fail per expectation, nothing more."""
    import great_expectations as gx

    context, validations = _validations()
    return {
        table: context.checkpoints.add(
            gx.Checkpoint(name=table, validation_definitions=[validation], result_format="BOOLEAN_ONLY")
        )
        for table, validation in validations.items()
    }


@cache
def _detailed_checkpoints(docs_folder: Path) -> dict[str, Any]:
    """Per gated table, the checkpoint a slice that failed an expectation runs again: unexpected counts and samples,
    and an HTML page in the data docs under `docs_folder` (a docs site per warehouse, added on its first failure)."""
    import great_expectations as gx

    context, validations = _validations()
    site = f"lakehouse {docs_folder}"
    context.add_data_docs_site(
        site_name=site,
        site_config={
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_folder)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    return {
        table: context.checkpoints.add(
            gx.Checkpoint(
                name=f"{table} in detail, {site}",
                validation_definitions=[validation],
                actions=[gx.checkpoint.UpdateDataDocsAction(name="data docs", site_names=[site])],
                result_format="SUMMARY",
            )
        )
        for table, validation in validations.items()
    }


def _validate(settings: Settings, table: str, rows: DataFrame, run_id: Any, detailed: bool) -> Any:
    # A continuous run gates silver and gold batches from two threads; GX's context is not documented thread-safe.
    with GX_LOCK:
        if detailed:
            checkpoint = _detailed_checkpoints(docs_building_folder(settings))[table]
        else:
            checkpoint = _quick_checkpoints()[table]
        run = checkpoint.run(batch_parameters={"dataframe": rows}, run_id=run_id)
        if detailed and not is_local(settings.warehouse):
            results_folder(settings).child("docs").upload(docs_building_folder(settings))
    (result,) = run.run_results.values()
    return result


def check(settings: Settings, table: str, rows: DataFrame, slice_name: str) -> Verdict:
    """Validate `rows` (what is about to be written to `table`; for gold.merchant_hourly with its volume ratio, see
    `with_volume_ratio`) and keep the result. Raises QualityGateFailed when a critical expectation fails; prints a
    line when a warning does. A slice that passes everything is validated once, pass or fail per expectation (the
    samples of unexpected values cost a pass over the rows per expectation); one that fails any is validated again
    in detail, for the kept result and the data docs."""
    from great_expectations.core.run_identifier import RunIdentifier

    validated_at = datetime.now(UTC)
    started = time.monotonic()
    gated = with_rule_columns(rows, expectations(table))
    run_id = RunIdentifier(run_name=f"{table} {slice_name}", run_time=validated_at)
    result = _validate(settings, table, gated, run_id, detailed=False)
    if not result.success:
        result = _validate(settings, table, gated, run_id, detailed=True)
    failed = [outcome.expectation_config for outcome in result.results if not outcome.success]
    verdict = Verdict(
        table,
        slice_name,
        tuple(e.description for e in failed if e.severity.value == CRITICAL),
        tuple(e.description for e in failed if e.severity.value != CRITICAL),
    )
    keep(settings, verdict, validated_at, time.monotonic() - started, result.describe_dict())
    if verdict.failed_warnings:
        print(verdict.warning(), flush=True)
    if not verdict.passed:
        raise QualityGateFailed(verdict.reason())
    return verdict


def keep(settings: Settings, verdict: Verdict, validated_at: datetime, seconds: float, result: dict) -> None:
    folder = results_folder(settings).child("results", validated_at.date().isoformat(), verdict.table)
    record = {
        "table": verdict.table,
        "slice": verdict.slice,
        "validated_at": validated_at.isoformat(),
        "seconds": round(seconds, 3),
        "passed": verdict.passed,
        "failed_critical": list(verdict.failed_critical),
        "failed_warnings": list(verdict.failed_warnings),
        "result": result,
    }
    name = f"{validated_at:%H%M%S.%f} {re.sub(r'[^0-9A-Za-z_.-]+', '_', verdict.slice)}.json"
    folder.child(name).write_text(json.dumps(record, indent=1, default=str))


def day_results(settings: Settings, day: str) -> list[dict]:
    """Every kept validation result of one UTC day, in the order they ran."""
    # A file's name begins with the time of the validation.
    files = sorted(results_folder(settings).child("results", day).files(".json"), key=lambda file: file.name)
    return [json.loads(file.read_text()) for file in files]
