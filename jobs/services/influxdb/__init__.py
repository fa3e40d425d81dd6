"""InfluxDB 1.6 (Debian's `influxdb` package) on loopback (LAKEHOUSE_INFLUXDB_PORT, default 18086).

`fetch` downloads the pinned .deb with `apt-get download` and unpacks it into .services/influxdb with `dpkg-deb -x`:
nothing is installed system-wide and nothing is started by the package. The server runs with a config of our own:
data, meta and WAL under <run dir>/influxdb/data, HTTP on loopback only, no usage reporting, no internal monitor
database, and authentication on. Three users, each with a random password kept in <run dir>/influxdb/secrets/
(readable by the owner only): `admin` (creates databases and users), `pipeline` (reads and writes the databases it
is granted: what `lakehouse publish` logs in as) and `reader` (reads them: the portal and analysts). `set_up`
creates them and the default database once the server is up; `create_database` adds another (tests, benchmarks).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jobs.runtime.settings import DEFAULTS
from jobs.services.base import Service, fetch_once, http_check, run_tool

HERE = Path(__file__).resolve().parent
PACKAGE_PIN = HERE / "package.txt"  # `name=version` of the Debian package
ADMIN, PIPELINE, READER = "admin", "pipeline", "reader"


class InfluxService(Service):
    name = "influxdb"
    default_port = 18086
    start_timeout = 30.0

    @property
    def binary(self) -> Path:
        return self.fetch_dir / "root" / "usr" / "bin" / "influxd"

    @property
    def config_file(self) -> Path:
        return self.home / "influxdb.conf"

    def fetch(self) -> None:
        fetch_once(self.fetch_dir / ".fetched", [PACKAGE_PIN], self._download)

    def _download(self) -> None:
        pin = PACKAGE_PIN.read_text().strip()
        self.fetch_dir.mkdir(parents=True, exist_ok=True)
        for old in self.fetch_dir.glob("*.deb"):
            old.unlink()
        run_tool(["apt-get", "download", "--quiet", pin], f"downloading {pin} with apt-get", cwd=self.fetch_dir)
        [package] = self.fetch_dir.glob("*.deb")
        run_tool(["dpkg-deb", "-x", str(package), str(self.fetch_dir / "root")], f"unpacking {package.name}")

    def prepare(self) -> None:
        super().prepare()
        for user in (ADMIN, PIPELINE, READER):
            self.secret(user)
        data = self.data_dir
        self.config_file.write_text(
            f"""reporting-disabled = true
bind-address = "127.0.0.1:{self.port + 1}"

[meta]
  dir = "{data}/meta"

[data]
  dir = "{data}/data"
  wal-dir = "{data}/wal"
  query-log-enabled = false

[monitor]
  store-enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:{self.port}"
  auth-enabled = true
  log-enabled = false
  max-body-size = 0
"""
        )

    def command(self) -> list[str]:
        return [str(self.binary), "-config", str(self.config_file)]

    def healthy(self) -> bool:
        return http_check(self.port, "/ping", lambda response: response.status == 204, timeout=1.0)

    def admin_client(self) -> Any:
        from jobs.sinks.influx import client

        return client(self.url, self.login(ADMIN))

    def set_up(self) -> None:
        """The users and the default database."""
        from influxdb.exceptions import InfluxDBClientError

        from jobs.sinks.influx import client

        admin_client = self.admin_client()
        try:
            existing = {user["user"] for user in admin_client.get_list_users()}
        except InfluxDBClientError:  # a new data dir, no user yet: InfluxDB lets anyone create the first admin, once
            admin = self.login(ADMIN)
            client(self.url).create_user(admin.user, admin.password.reveal(), admin=True)
            existing = {ADMIN}
        for user in (PIPELINE, READER):
            if user not in existing:
                admin_client.create_user(user, self.secret(user))
        self.create_database(DEFAULTS["influxdb_database"])

    def create_database(self, database: str) -> None:
        """Create `database` (if missing) with `pipeline` allowed to read and write it and `reader` to read it."""
        admin_client = self.admin_client()
        admin_client.create_database(database)
        admin_client.grant_privilege("all", database, PIPELINE)
        admin_client.grant_privilege("read", database, READER)

    def exports(self) -> dict[str, str]:
        """The server and the pipeline's login (its password as a file: never printed)."""
        return {
            "LAKEHOUSE_INFLUXDB_URL": self.url,
            "LAKEHOUSE_INFLUXDB_USER": PIPELINE,
            "LAKEHOUSE_INFLUXDB_PASSWORD_FILE": str(self.password_file(PIPELINE)),
        }
