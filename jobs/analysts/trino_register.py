"""`lakehouse trino-register`: make the warehouse's Delta tables and the analyst views queryable in Trino.

Idempotent: run it after any pipeline run that may have created a table (the demo runs it).
1. Two catalogs (Delta Lake connector) are pointed at the warehouse: `lakehouse`, read-only, which analysts query,
   and `lakehouse_registry`, through which steps 2-4 write the metastore. For a local warehouse they are created
   through Trino's dynamic catalogs, with a file metastore kept in <warehouse>/_trino_metastore, so one local Trino
   serves whichever warehouse was registered last; a warehouse on an S3 server of our own (LAKEHOUSE_S3_ENDPOINT,
   the local one) likewise, through Trino's native S3 file system. A warehouse on AWS's S3 uses the static Glue
   catalogs of infra/trino/ instead, which this step only checks for.
2. Schemas bronze, silver, gold, ops and analyst are created if missing.
3. Every table of the table contract that exists in the warehouse and is not yet known to the metastore is
   registered in place (`system.register_table`): Trino reads Spark's Delta log, nothing is copied. Trino then sees
   each new commit at query time.
4. The views of schemas/trino/analyst_views.sql are created or replaced in schema analyst, and views no longer in
   that file are dropped.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field

import trino

from jobs.analysts.sql import CATALOG, QueryFailed, connect, execute, frame
from jobs.runtime.arguments import JobArgumentParser
from jobs.runtime.commands import command_parser
from jobs.runtime.exits import run_entry
from jobs.runtime.settings import REPO_ROOT, Settings, is_local, settings_from
from jobs.storage.currencies import MINOR_UNIT_EXPONENTS
from jobs.storage.files import location
from jobs.storage.tables import TABLES

# Registrations and views are written through a catalog of their own: the `lakehouse` catalog that analysts query
# is read-only, so that nothing but the pipeline writes its tables.
REGISTRY_CATALOG = f"{CATALOG}_registry"

VIEWS_FILE = REPO_ROOT / "schemas" / "trino" / "analyst_views.sql"
VIEWS_SCHEMA = "analyst"
SCHEMAS = ("bronze", "silver", "gold", "ops", VIEWS_SCHEMA)
METASTORE_DIR = "_trino_metastore"  # under the warehouse; Spark ignores folders that start with "_"
VIEW_NAME = re.compile(r"^CREATE OR REPLACE VIEW (\w+\.\w+)", re.IGNORECASE | re.MULTILINE)
EXPONENTS_PLACEHOLDER = ":minor_unit_exponents"


@dataclass
class Registration:
    """What one trino-register did, printed as a few lines."""

    catalog: str = ""
    registered: list[str] = field(default_factory=list)
    known: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)  # in the contract, not yet written by the pipeline
    views: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # views no longer in the views file

    def lines(self) -> list[str]:
        lines = [
            f"catalog  {self.catalog}",
            f"tables   registered {len(self.registered)}  already registered {len(self.known)}",
            f"views    {len(self.views)} created or replaced: {', '.join(self.views)}",
        ]
        if self.absent:
            lines.insert(2, f"         not in the warehouse yet: {', '.join(self.absent)}")
        if self.dropped:
            lines.append(f"         dropped, no longer in {VIEWS_FILE.name}: {', '.join(self.dropped)}")
        return lines


def has_dynamic_catalogs(settings: Settings) -> bool:
    """A local warehouse, or one on an S3 server of our own (the local one): catalogs created here, with a file
    metastore in the warehouse. On AWS (S3 without an endpoint setting) the catalogs are static, over Glue."""
    return is_local(settings.warehouse) or bool(settings.s3_endpoint)


def catalog_properties(settings: Settings, read_only: bool) -> dict[str, str]:
    """The Delta Lake connector over the warehouse with a file metastore inside it: Trino's native local file system
    for a local warehouse, its native S3 file system (with the settings' endpoint and keys) for one on S3."""
    if is_local(settings.warehouse):
        properties = {
            "hive.metastore.catalog.dir": f"local:///{METASTORE_DIR}",
            "fs.native-local.enabled": "true",
            "local.location": settings.warehouse,
        }
    else:
        properties = {
            "hive.metastore.catalog.dir": f"{s3_uri(settings.warehouse)}/{METASTORE_DIR}",
            "fs.native-s3.enabled": "true",
            "s3.region": settings.s3_region,
            "s3.endpoint": settings.s3_endpoint,
            "s3.path-style-access": "true",
        }
        if settings.s3_login:
            properties |= {
                "s3.aws-access-key": settings.s3_login.user,
                "s3.aws-secret-key": settings.s3_login.password.reveal(),
            }
    properties["hive.metastore"] = "file"
    if read_only:
        return {**properties, "delta.security": "read_only"}
    return {**properties, "delta.register-table-procedure.enabled": "true"}


def s3_uri(location: str) -> str:
    """Trino's name for an S3 location: s3:// where Spark's is s3a://."""
    return re.sub("^s3a://", "s3://", location)


def table_location(warehouse: str, table: str) -> str:
    """Where Trino finds a table: `local:///gold/merchant_daily` locally, `s3://bucket/prefix/gold/...` on S3."""
    layer, name = table.split(".")
    if is_local(warehouse):
        return f"local:///{layer}/{name}"
    return f"{s3_uri(warehouse)}/{layer}/{name}"


def table_exists(settings: Settings, table: str) -> bool:
    """The pipeline has written the table: its Delta log is there (a local folder, or objects under an S3 prefix)."""
    return location(settings, settings.table_path(table)).child("_delta_log").is_dir()


def sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def view_statements(text: str) -> list[tuple[str, str]]:
    """(view name, statement) for each statement of the views file, in order, the currency exponents filled in."""
    if text.count(EXPONENTS_PLACEHOLDER) != 1:
        raise ValueError(f"{VIEWS_FILE.name} must hold {EXPONENTS_PLACEHOLDER} once (the currency exponents)")
    exponents = ", ".join(f"({sql_literal(code)}, {exponent})" for code, exponent in MINOR_UNIT_EXPONENTS.items())
    statements = re.split(r";\s*$", text.replace(EXPONENTS_PLACEHOLDER, exponents), flags=re.MULTILINE)
    views = []
    for statement in filter(None, map(str.strip, statements)):
        found = VIEW_NAME.search(statement)
        if found is None or not found.group(1).startswith(f"{VIEWS_SCHEMA}."):
            raise ValueError(
                f"{VIEWS_FILE.name}: not a CREATE OR REPLACE VIEW {VIEWS_SCHEMA}.<name>: {statement[:60]!r}"
            )
        views.append((found.group(1), statement))
    return views


def point_catalogs(connection: trino.dbapi.Connection, settings: Settings) -> str:
    """The read-only catalog analysts query, and the registry catalog that writes the metastore, both over the
    warehouse: created for a local one or one on our own S3 server, checked for one on AWS (static catalogs over
    Glue, see infra/trino/)."""
    warehouse = settings.warehouse
    if not has_dynamic_catalogs(settings):
        present = frame(connection, "SHOW CATALOGS")["Catalog"].tolist()
        missing = [name for name in (CATALOG, REGISTRY_CATALOG) if name not in present]
        if missing:
            raise QueryFailed(f"Trino has no catalog {missing[0]!r}: on AWS they are static, see infra/trino/")
        return f"{CATALOG}, {REGISTRY_CATALOG} (static, warehouse {warehouse})"
    # Recreated every time: a dynamic catalog's properties cannot be read back to see which warehouse it serves.
    for name, read_only in ((CATALOG, True), (REGISTRY_CATALOG, False)):
        execute(connection, f"DROP CATALOG IF EXISTS {name}").fetchall()
        properties = catalog_properties(settings, read_only)
        with_clause = ", ".join(f'"{key}" = {sql_literal(value)}' for key, value in properties.items())
        execute(connection, f"CREATE CATALOG {name} USING delta_lake WITH ({with_clause})").fetchall()
    return f"{CATALOG} (read-only) -> {warehouse} (Delta Lake, file metastore in {METASTORE_DIR}/)"


def register(connection: trino.dbapi.Connection, settings: Settings) -> Registration:
    done = Registration(catalog=point_catalogs(connection, settings))
    for schema in SCHEMAS:
        execute(connection, f"CREATE SCHEMA IF NOT EXISTS {REGISTRY_CATALOG}.{schema}").fetchall()
    known = frame(
        connection,
        f"SELECT table_schema || '.' || table_name AS name FROM {CATALOG}.information_schema.tables "
        f"WHERE table_type = 'BASE TABLE'",
    )["name"].tolist()
    for table in TABLES:
        if table in known:
            done.known.append(table)
        elif not table_exists(settings, table):
            done.absent.append(table)
        else:
            schema, name = table.split(".")
            location = table_location(settings.warehouse, table)
            call = (
                f"CALL {REGISTRY_CATALOG}.system.register_table(schema_name => {sql_literal(schema)}, "
                f"table_name => {sql_literal(name)}, table_location => {sql_literal(location)})"
            )
            execute(connection, call).fetchall()
            done.registered.append(table)
    views = view_statements(VIEWS_FILE.read_text())
    for name, statement in views:
        # Created through the registry catalog; the view's own table names resolve in the session's catalog, the
        # read-only one, which is where analysts query the view.
        execute(connection, VIEW_NAME.sub(f"CREATE OR REPLACE VIEW {REGISTRY_CATALOG}.{name}", statement)).fetchall()
        done.views.append(name)
    stale = frame(
        connection,
        f"SELECT table_schema || '.' || table_name AS name FROM {CATALOG}.information_schema.views "
        f"WHERE table_schema = {sql_literal(VIEWS_SCHEMA)}",
    )["name"]
    for name in sorted(set(stale) - set(done.views)):
        execute(connection, f"DROP VIEW {REGISTRY_CATALOG}.{name}").fetchall()
        done.dropped.append(name)
    return done


def build_parser() -> JobArgumentParser:
    parser = command_parser("trino-register", __doc__)
    parser.add_argument("--trino-url", help="default LAKEHOUSE_TRINO_URL, else https://127.0.0.1:18081")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def work() -> None:
        settings = settings_from(args)
        with connect(settings) as connection:
            print("\n".join(register(connection, settings).lines()))

    return run_entry("lakehouse trino-register", work)


if __name__ == "__main__":
    sys.exit(main())
