"""Trino 476: one coordinator that is also its worker, on loopback: clients on HTTPS at LAKEHOUSE_TRINO_PORT + 1
(default 18081), its own HTTP at LAKEHOUSE_TRINO_PORT (18080: health checks and internal calls only).

`fetch` copies the trino-server tarball from Maven Central with Maven and unpacks only the folders unpacked.txt
names, the server's libraries, the Delta Lake plugin and the password file authenticator (about 380 MB of the
tarball's 2,000): a server loads every plugin it finds at start. The server runs on the Temurin 25 JDK (Trino 476
needs Java 24 or later; the machine's default `java` is 17), straight from its jars with the JVM options of Trino's
deployment guide, sized for a 2-core machine that runs Spark next to it.

Catalogs are dynamic (`catalog.management=dynamic`) and stored under <run dir>/trino/etc/catalog:
`lakehouse trino-register` creates the `lakehouse` catalog over whichever warehouse it is given, so one server
serves the demo's warehouse or a test's.

Locked down: clients log in with a password (Trino takes one only over HTTPS, so the server has a self-signed
certificate for 127.0.0.1, whose PEM clients verify), and rules.json says who may do what: `pipeline` manages
catalogs, schemas, views and table registrations; `analyst` reads the `lakehouse` catalog and nothing else. The
passwords are random, made at the first start and kept in <run dir>/trino/secrets/ (readable by the owner only).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import tarfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Self

from jobs.runtime.settings import TRINO_JAVA_HOME, ServiceSettings, service_settings
from jobs.services.base import (
    LOOPBACK,
    MavenJarsService,
    ServiceError,
    fetch_once,
    http_check,
    private_file,
    run_tool,
)

HERE = Path(__file__).resolve().parent
POM = HERE / "pom.xml"
# What the server needs of the tarball (trino-server-<version>/...), one folder a line.
UNPACKED_LIST = HERE / "unpacked.txt"
RULES = HERE / "rules.json"  # file-based access control: who may do what
PIPELINE, ANALYST = "pipeline", "analyst"
PBKDF2_ITERATIONS = 100_000
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

    @property
    def https_port(self) -> int:
        return self.port + 1

    @property
    def client_url(self) -> str:
        return f"https://{LOOPBACK}:{self.https_port}"

    @property
    def ca_file(self) -> Path:
        """The server's self-signed certificate, which clients verify it by."""
        return self.etc_dir / "trino-ca.pem"

    def fetch(self) -> None:
        fetch_once(self.fetch_dir / ".fetched", [self.pom, UNPACKED_LIST], self._download)

    def _download(self) -> None:
        for old in self.fetch_dir.glob("trino-server-*/"):
            shutil.rmtree(old)
        self._copy_jars()  # the tarball, into <fetch dir>/libs
        [tarball] = self.libs.glob("trino-server-*.tar.gz")
        unpacked = UNPACKED_LIST.read_text().split()
        prefixes = tuple(f"{tarball.name.removesuffix('.tar.gz')}/{part}" for part in unpacked)
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
        # Owner-only: the catalogs trino-register creates hold their S3 keys.
        catalogs = self.etc_dir / "catalog"
        catalogs.mkdir(parents=True, exist_ok=True)
        catalogs.chmod(0o700)
        self._write_security()
        config = {
            "coordinator": "true",
            "node-scheduler.include-coordinator": "true",
            "http-server.http.port": self.port,
            "http-server.https.enabled": "true",
            "http-server.https.port": self.https_port,
            "http-server.https.keystore.path": self.etc_dir / "keystore.p12",
            "http-server.https.keystore.key": self.secret("keystore"),
            "http-server.authentication.type": "PASSWORD",
            # Internal calls (on HTTP) carry a token made from it: required once clients authenticate.
            "internal-communication.shared-secret": self.secret("internal"),
            "password-authenticator.config-files": self.etc_dir / "password-authenticator.properties",
            "access-control.config-files": self.etc_dir / "access-control.properties",
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
        private_file(self.etc_dir / "config.properties").write_text("\n".join(lines) + "\n")
        (self.etc_dir / "log.properties").write_text("io.trino=INFO\n")

    def _write_security(self) -> None:
        """The certificate, the users' password hashes and the access rules."""
        keystore = self.etc_dir / "keystore.p12"
        if not keystore.exists():
            keytool = str(self.java_home / "bin" / "keytool")
            store = ["-keystore", str(keystore), "-storetype", "PKCS12", "-storepass", self.secret("keystore")]
            run_tool(
                [keytool, "-genkeypair", "-alias", "trino", "-keyalg", "RSA", "-keysize", "2048", "-validity", "3650",
                 "-dname", f"CN={LOOPBACK}", "-ext", f"SAN=ip:{LOOPBACK},dns:localhost", "-noprompt", *store],
                "making Trino's certificate",
            )  # fmt: skip
            run_tool(
                [keytool, "-exportcert", "-rfc", "-alias", "trino", "-file", str(self.ca_file), *store],
                "exporting Trino's certificate",
            )
        hashes = [f"{user}:{pbkdf2_hash(self.secret(user))}" for user in (PIPELINE, ANALYST)]
        private_file(self.etc_dir / "password.db").write_text("\n".join(hashes) + "\n")
        authenticator = f"password-authenticator.name=file\nfile.password-file={self.etc_dir / 'password.db'}\n"
        (self.etc_dir / "password-authenticator.properties").write_text(authenticator)
        access = f"access-control.name=file\nsecurity.config-file={RULES}\n"
        (self.etc_dir / "access-control.properties").write_text(access)

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
        """The server, its certificate and the analyst's login (the password as a file: never printed). The pipeline
        logs in as `pipeline` instead: LAKEHOUSE_TRINO_USER=pipeline and its own password file."""
        return {
            "LAKEHOUSE_TRINO_URL": self.client_url,
            "LAKEHOUSE_TRINO_CA_FILE": str(self.ca_file),
            "LAKEHOUSE_TRINO_USER": ANALYST,
            "LAKEHOUSE_TRINO_PASSWORD_FILE": str(self.password_file(ANALYST)),
        }


def pbkdf2_hash(password: str) -> str:
    """A password as Trino's password file takes it: `<iterations>:<salt>:<hash>`, PBKDF2 with HMAC-SHA1, lowercase
    hex."""
    salt = os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha1", password.encode(), salt, PBKDF2_ITERATIONS, dklen=32)
    return f"{PBKDF2_ITERATIONS}:{salt.hex()}:{digest.hex()}"
