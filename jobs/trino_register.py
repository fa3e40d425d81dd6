"""`lakehouse trino-register`: make the warehouse's Delta tables and the analyst views queryable in Trino.

Idempotent: run it after any pipeline run that may have created a table (the demo runs it).
1. The `lakehouse` catalog (Delta Lake connector) is pointed at the warehouse. For a local warehouse it is created
   through Trino's dynamic catalogs, with a file metastore kept in <warehouse>/_trino_metastore, so one local Trino
   serves whichever warehouse was registered last. A warehouse on S3 uses the static Glue catalog of
   infra/trino/lakehouse.properties instead, which this step only checks for.
2. Schemas bronze, silver, gold, ops and analyst are created if missing.
3. Every table of the table contract that exists in the warehouse and is not yet known to the metastore is
   registered in place (`system.register_table`): Trino reads Spark's Delta log, nothing is copied. Trino then sees
   each new commit at query time.
4. The views of schemas/trino/analyst_views.sql are created or replaced in schema analyst.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

import trino

from jobs.entry import run_entry
from jobs.report import MINOR_UNIT_EXPONENTS
from jobs.settings import REPO_ROOT, JobArgumentParser, Settings, add_settings_arguments, settings_from
from jobs.sql import CATALOG, QueryFailed, connect, execute, frame
from jobs.tables import TABLES

VIEWS_FILE = REPO_ROOT / "schemas" / "trino" / "analyst_views.sql"
VIEWS_SCHEMA = "analyst"
SCHEMAS = ("bronze", "silver", "gold", "ops", VIEWS_SCHEMA)
METASTORE_DIR = "_trino_metastore"  # under the warehouse; Spark ignores folders that start with "_"
VIEW_NAME = re.compile(r"CREATE OR REPLACE VIEW (\w+\.\w+)", re.IGNORECASE)


@dataclass
class Registration:
    """What one trino-register did, printed as a few lines."""

    catalog: str = ""
    registered: list[str] = field(default_factory=list)
    known: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)  # in the contract, not yet written by the pipeline
    views: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        lines = [
            f"catalog  {self.catalog}",
            f"tables   registered {len(self.registered)}  already registered {len(self.known)}",
            f"views    {len(self.views)} created or replaced: {', '.join(self.views)}",
        ]
        if self.absent:
            lines.insert(2, f"         not in the warehouse yet: {', '.join(self.absent)}")
        return lines


def is_local(warehouse: str) -> bool:
    return "://" not in warehouse


def catalog_properties(warehouse: str) -> dict[str, str]:
    """The Delta Lake connector over a local warehouse: native local file system, file metastore inside it."""
    return {
        "hive.metastore": "file",
        "hive.metastore.catalog.dir": f"local:///{METASTORE_DIR}",
        "fs.native-local.enabled": "true",
        "local.location": warehouse,
        "delta.register-table-procedure.enabled": "true",
    }


def table_location(warehouse: str, table: str) -> str:
    """Where Trino finds a table: `local:///gold/merchant_daily` locally, `s3://bucket/prefix/gold/...` on S3."""
    layer, name = table.split(".")
    if is_local(warehouse):
        return f"local:///{layer}/{name}"
    return f"{re.sub('^s3a://', 's3://', warehouse)}/{layer}/{name}"


def table_exists(warehouse: str, table: str) -> bool:
    layer, name = table.split(".")
    return not is_local(warehouse) or (Path(warehouse) / layer / name / "_delta_log").is_dir()


def sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def view_statements(text: str) -> list[str]:
    """The statements of the views file, in order, with the currency exponents filled in."""
    exponents = ", ".join(f"({sql_literal(code)}, {exponent})" for code, exponent in MINOR_UNIT_EXPONENTS.items())
    text = Template(text).substitute(minor_unit_exponents=exponents)
    return [statement.strip() for statement in re.split(r";\s*$", text, flags=re.MULTILINE) if statement.strip()]


def point_catalog(connection: trino.dbapi.Connection, warehouse: str) -> str:
    if not is_local(warehouse):
        catalogs = frame(connection, "SHOW CATALOGS")["Catalog"].tolist()
        if CATALOG not in catalogs:
            raise QueryFailed(
                f"Trino has no catalog {CATALOG!r}: on AWS it is static, see infra/trino/lakehouse.properties"
            )
        return f"{CATALOG} (static, warehouse {warehouse})"
    # Recreated every time: a dynamic catalog's properties cannot be read back to see which warehouse it serves.
    execute(connection, f"DROP CATALOG IF EXISTS {CATALOG}").fetchall()
    properties = ", ".join(f'"{key}" = {sql_literal(value)}' for key, value in catalog_properties(warehouse).items())
    execute(connection, f"CREATE CATALOG {CATALOG} USING delta_lake WITH ({properties})").fetchall()
    return f"{CATALOG} -> {warehouse} (Delta Lake, file metastore in {METASTORE_DIR}/)"


def register(connection: trino.dbapi.Connection, settings: Settings) -> Registration:
    done = Registration(catalog=point_catalog(connection, settings.warehouse))
    for schema in SCHEMAS:
        execute(connection, f"CREATE SCHEMA IF NOT EXISTS {CATALOG}.{schema}").fetchall()
    known = frame(
        connection,
        f"SELECT table_schema || '.' || table_name AS name FROM {CATALOG}.information_schema.tables "
        f"WHERE table_type = 'BASE TABLE'",
    )["name"].tolist()
    for table in TABLES:
        if table in known:
            done.known.append(table)
        elif not table_exists(settings.warehouse, table):
            done.absent.append(table)
        else:
            schema, name = table.split(".")
            location = table_location(settings.warehouse, table)
            call = (
                f"CALL {CATALOG}.system.register_table(schema_name => {sql_literal(schema)}, "
                f"table_name => {sql_literal(name)}, table_location => {sql_literal(location)})"
            )
            execute(connection, call).fetchall()
            done.registered.append(table)
    for statement in view_statements(VIEWS_FILE.read_text()):
        execute(connection, statement).fetchall()
        done.views.append(VIEW_NAME.search(statement).group(1))
    return done


def build_parser() -> JobArgumentParser:
    parser = JobArgumentParser(prog="lakehouse trino-register", description=__doc__.splitlines()[0])
    parser.add_argument("--trino-url", help="default LAKEHOUSE_TRINO_URL, else http://127.0.0.1:18080")
    add_settings_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def work() -> None:
        settings = settings_from(args)
        print("\n".join(register(connect(settings), settings).lines()))

    return run_entry("lakehouse trino-register", work)


if __name__ == "__main__":
    sys.exit(main())
