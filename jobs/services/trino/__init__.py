"""Trino 476: one coordinator that is also its worker, on loopback (LAKEHOUSE_TRINO_PORT, default 18080).

`fetch` copies the trino-server tarball from Maven Central with Maven and unpacks only the server's libraries and
the Delta Lake plugin (about 380 MB of the tarball's 2,000): a server loads every plugin it finds at start, and
only `delta_lake` is used here. The server runs on the Temurin 25 JDK (Trino 476 needs Java 24 or later; the
machine's default `java` is 17), straight from its jars with the JVM options of Trino's deployment guide, sized
for a 2-core machine that runs Spark next to it.

Catalogs are dynamic (`catalog.management=dynamic`) and stored under <run dir>/trino/etc/catalog:
`lakehouse trino-register` creates the `lakehouse` catalog over whichever warehouse it is given, so one server
serves the demo's warehouse or a test's.
"""

from __future__ import annotations

import gzip
import json
import shutil
import tarfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Self

from jobs.runtime.settings import TRINO_JAVA_HOME, ServiceSettings, service_settings
from jobs.services.base import LOOPBACK, MavenJarsService, ServiceError, fetch_once, http_check

HERE = Path(__file__).resolve().parent
POM = HERE / "pom.xml"
# What the server needs of the tarball (trino-server-<version>/...): its libraries and the one connector that reads
# Delta tables.
UNPACKED = ("lib/", "plugin/delta-lake/")
# Trino's recommended JVM options (G1, exit on OOM, attach for its JOL memory accounting), with a 2 GB heap.
JVM_OPTIONS = [
    "-Xms512m",
    "-Xmx2G",
    "-XX:+UseG1GC",
    "-XX:G1HeapRegionSize=32M",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-XX:+ExitOnOutOfMemoryError",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:ReservedCodeCacheSize=256M",
    "-XX:+EnableDynamicAgentLoading",
    "-Djdk.attach.allowAttachSelf=true",
    "-Djdk.nio.maxCachedBufferSize=2000000",
    "--enable-native-access=ALL-UNNAMED",
    "-Dfile.encoding=UTF-8",
]
MAIN_CLASS = "io.trino.server.TrinoServer"


@dataclass(frozen=True)
class TrinoService(MavenJarsService):
    java_home: Path = TRINO_JAVA_HOME

    name = "trino"
    pom = POM
    default_port = 18080
    start_timeout = 120.0

    @classmethod
    def configured(cls, settings: ServiceSettings | None = None) -> Self:
        settings = service_settings() if settings is None else settings
        return replace(super().configured(settings), java_home=settings.trino_java_home)

    @property
    def server_dir(self) -> Path:
        """The unpacked trino-server-<version> folder (the version is pom.xml's alone)."""
        found = sorted(self.fetch_dir.glob("trino-server-*/"))
        if not found:
            raise ServiceError(f"Trino is not fetched into {self.fetch_dir}: run `lakehouse services fetch trino`")
        return found[-1]

    @property
    def etc_dir(self) -> Path:
        return self.home / "etc"

    @property
    def java(self) -> Path:
        return self.java_home / "bin" / "java"

    def fetch(self) -> None:
        fetch_once(self.fetch_dir / ".fetched", [self.pom], self._download)

    def _download(self) -> None:
        for old in self.fetch_dir.glob("trino-server-*/"):
            shutil.rmtree(old)
        self._copy_jars()  # the tarball, into <fetch dir>/libs
        [tarball] = self.libs.glob("trino-server-*.tar.gz")
        prefixes = tuple(f"{tarball.name.removesuffix('.tar.gz')}/{part}" for part in UNPACKED)
        # Decompressed first: each hard link below makes tarfile seek back to its target, and a seek back in a gzip
        # stream decompresses it again from the start (38 s instead of 7 here).
        plain = tarball.with_suffix("")
        with gzip.open(tarball) as compressed, plain.open("wb") as output:
            shutil.copyfileobj(compressed, output, length=1 << 20)
        with tarfile.open(plain) as archive:
            # The tarball hard-links jars that plugins share: tarfile copies a link's data when its target is not
            # among the members unpacked, which `tar` would refuse.
            members = [member for member in archive if member.name.startswith(prefixes)]
            archive.extractall(self.fetch_dir, members=members, filter="data")
        shutil.rmtree(self.libs)  # Maven's local repository keeps the tarball

    def prepare(self) -> None:
        super().prepare()
        if not self.java.is_file():
            raise ServiceError(
                f"Trino needs Java 24 or later: no {self.java} (set LAKEHOUSE_TRINO_JAVA_HOME to a JDK 25)"
            )
        (self.etc_dir / "catalog").mkdir(parents=True, exist_ok=True)
        config = {
            "coordinator": "true",
            "node-scheduler.include-coordinator": "true",
            "http-server.http.port": self.port,
            "discovery.uri": self.url,
            "node.environment": "lakehouse",
            "node.id": "lakehouse",
            "node.bind-ip": LOOPBACK,
            "node.internal-address": LOOPBACK,
            "plugin.dir": self.server_dir / "plugin",
            "catalog.management": "dynamic",
            "catalog.store": "file",
            # A third of the heap for one query, so two analysts' queries and Trino's own headroom fit in 2 GB.
            "query.max-memory": "700MB",
            "query.max-memory-per-node": "700MB",
            "task.concurrency": 2,
        }
        lines = [f"{key}={value}" for key, value in config.items()]
        (self.etc_dir / "config.properties").write_text("\n".join(lines) + "\n")
        (self.etc_dir / "log.properties").write_text("io.trino=INFO\n")

    def command(self) -> list[str]:
        properties = [
            f"-Dnode.data-dir={self.data_dir}",
            f"-Dconfig={self.etc_dir / 'config.properties'}",
            f"-Dlog.levels-file={self.etc_dir / 'log.properties'}",
        ]
        return [str(self.java), *JVM_OPTIONS, *properties, "-cp", f"{self.server_dir / 'lib'}/*", MAIN_CLASS]

    def process_env(self) -> dict[str, str]:
        return {"JAVA_HOME": str(self.java_home)}

    def healthy(self) -> bool:
        """The server answers and has finished starting (it accepts queries)."""
        return http_check(self.port, "/v1/info", lambda response: json.load(response)["starting"] is False)

    def exports(self) -> dict[str, str]:
        return {"LAKEHOUSE_TRINO_URL": self.url}
