"""InfluxDB 1.6 (Debian's `influxdb` package) on loopback (LAKEHOUSE_INFLUXDB_PORT, default 18086).

`fetch` downloads the pinned .deb with `apt-get download` and unpacks it into .services/influxdb with `dpkg-deb -x`:
nothing is installed system-wide and nothing is started by the package. The server runs with a config of our own:
data, meta and WAL under <run dir>/influxdb/data, HTTP on loopback only, no usage reporting, no internal monitor
database.
"""

from __future__ import annotations

from pathlib import Path

from jobs.services.base import Service, fetch_once, http_check, run_tool

HERE = Path(__file__).resolve().parent
PACKAGE_PIN = HERE / "package.txt"  # `name=version` of the Debian package


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
  log-enabled = false
  max-body-size = 0
"""
        )

    def command(self) -> list[str]:
        return [str(self.binary), "-config", str(self.config_file)]

    def healthy(self) -> bool:
        return http_check(self.port, "/ping", lambda response: response.status == 204, timeout=1.0)

    def exports(self) -> dict[str, str]:
        return {"LAKEHOUSE_INFLUXDB_URL": self.url}
