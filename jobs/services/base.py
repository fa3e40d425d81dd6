"""What every local service is: a program fetched once, a folder under the run dir, a start command, a health check."""

from __future__ import annotations

import hashlib
import secrets
import shutil
import socket
import subprocess
import urllib.error
import urllib.request
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.client import HTTPResponse
from pathlib import Path
from typing import ClassVar, Self

from jobs.runtime.settings import SERVICES_HOME, Login, Secret, ServiceSettings, service_settings

LOOPBACK = "127.0.0.1"


class ServiceError(RuntimeError):
    """A service could not be fetched, started or stopped: reported in one line, exit status 1."""


@dataclass(frozen=True)
class Service(ABC):
    """One local service: `port` on loopback, and `home` (<run dir>/<name>) for its data, log and pid file.

    A subclass names itself and its default port, and says how to fetch, prepare, start and probe it;
    jobs/services/process.py does the starting, waiting and stopping the same way for all of them.
    """

    port: int
    home: Path

    name: ClassVar[str]
    default_port: ClassVar[int]
    start_timeout: ClassVar[float] = 60.0

    @classmethod
    def configured(cls, settings: ServiceSettings | None = None) -> Self:
        """The service as LAKEHOUSE_RUN_DIR and LAKEHOUSE_<NAME>_PORT (or `settings`) place it."""
        settings = service_settings() if settings is None else settings
        return cls(port=settings.port(cls.name, cls.default_port), home=settings.run_dir / cls.name)

    @property
    def fetch_dir(self) -> Path:
        return SERVICES_HOME / self.name

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def log_file(self) -> Path:
        return self.home / f"{self.name}.log"

    @property
    def pid_file(self) -> Path:
        return self.home / f"{self.name}.pid"

    def password_file(self, user: str) -> Path:
        """Where the password of `user` (or another secret of the service) is kept, readable by the owner only."""
        return self.home / "secrets" / f"{user}.password"

    def secret(self, user: str) -> str:
        """The password of `user`, made at random the first time and kept: clients keep working across restarts
        and data wipes."""
        file = self.password_file(user)
        if not file.exists():
            file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            private_file(file).write_text(secrets.token_urlsafe(32) + "\n")
        return file.read_text().strip()

    def login(self, user: str) -> Login:
        return Login(user, Secret(self.secret(user)))

    @property
    def address(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    @abstractmethod
    def fetch(self) -> None:
        """Download what the service runs into `fetch_dir`; cheap when already done."""

    def prepare(self) -> None:
        """Make the data dir ready before a start (a subclass may format it)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)

    @abstractmethod
    def command(self) -> list[str]:
        """The command that runs the service in the foreground, logging to stdout or stderr."""

    def process_env(self) -> dict[str, str]:
        """Variables the service's process needs on top of the caller's environment."""
        return {}

    @abstractmethod
    def healthy(self) -> bool:
        """True when a client request succeeds; quick and quiet when nothing listens."""

    def set_up(self) -> None:
        """Once healthy after a start: create what clients expect to find (users, databases); idempotent."""
        return None

    @abstractmethod
    def exports(self) -> dict[str, str]:
        """Environment variables that point a client at this service."""


class MavenJarsService(Service):
    """A service that runs on the JVM from the jars its pom.xml names, copied into <fetch dir>/libs by Maven."""

    pom: ClassVar[Path]

    @property
    def libs(self) -> Path:
        return self.fetch_dir / "libs"

    def fetch(self) -> None:
        fetch_once(self.fetch_dir / ".fetched", [self.pom], self._copy_jars)

    def _copy_jars(self) -> None:
        shutil.rmtree(self.libs, ignore_errors=True)
        command = ["mvn", "--batch-mode", "--quiet", "-f", str(self.pom), "dependency:copy-dependencies"]
        run_tool([*command, f"-DoutputDirectory={self.libs}"], f"resolving {self.name}'s jars with Maven")


# --- helpers for subclasses --------------------------------------------------------------------------------


def port_open(port: int, timeout: float = 0.5) -> bool:
    """Something accepts connections on the loopback port (checked before a client that would log each refusal)."""
    try:
        with socket.create_connection((LOOPBACK, port), timeout=timeout):
            return True
    except OSError:
        return False


def http_check(port: int, path: str, accept: Callable[[HTTPResponse], bool], timeout: float = 2.0) -> bool:
    """A GET of `path` on the loopback port is answered and `accept`ed; quick and quiet when nothing listens, and
    false for an answer that cannot be read as expected (another program on the port)."""
    if not port_open(port):
        return False
    try:
        with urllib.request.urlopen(f"http://{LOOPBACK}:{port}{path}", timeout=timeout) as response:
            return accept(response)
    except (urllib.error.URLError, OSError, ValueError, KeyError):
        return False


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def free_port(span: int = 1) -> int:
    """A loopback port that is free now, with the `span - 1` ports above it (Kafka's controller takes port + 1), for
    services of a test session or a benchmark that must not meet those of `lakehouse services up`."""
    for _ in range(100):
        with socket.socket() as probe:
            probe.bind((LOOPBACK, 0))
            port = probe.getsockname()[1]
        if port + span <= 65536 and all(_port_free(port + offset) for offset in range(1, span)):
            return port
    raise ServiceError(f"no {span} free loopback ports in a row")


def fetch_once(stamp: Path, inputs: Sequence[Path], fetch: Callable[[], None]) -> None:
    """Run `fetch` unless `stamp` holds the digest of `inputs` (a pom, a lock file), so a changed pin fetches again.

    The stamp is rewritten either way: make compares its time with the inputs' times.
    """
    digest = hashlib.sha256(b"".join(path.read_bytes() for path in inputs)).hexdigest()
    if not (stamp.is_file() and stamp.read_text().strip() == digest):
        stamp.unlink(missing_ok=True)
        fetch()
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(digest + "\n")


def private_file(path: Path) -> Path:
    """`path`, created readable by its owner only."""
    path.touch(mode=0o600)
    path.chmod(0o600)
    return path


def run_tool(command: list[str], what: str, cwd: Path | None = None) -> None:
    """Run a fetch or setup tool (mvn, npm, a JVM); its failure becomes one ServiceError line with its last output."""
    if shutil.which(command[0]) is None:
        raise ServiceError(f"{what}: {command[0]!r} is not on the PATH")
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        output = (result.stderr.strip() or result.stdout.strip() or "no output").splitlines()
        raise ServiceError(f"{what} failed with status {result.returncode}: {output[-1]}")
