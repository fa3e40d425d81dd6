"""Local real services on loopback (Kafka, Kinesis, InfluxDB, OpenSearch, Trino, S3): fetch, start, health-check, stop.

One registry serves `make setup` (fetch), `lakehouse services up|down|status`, the demo and the pytest fixtures.
A new service is a Service subclass in its own module (jobs/services/<name>/), added to SERVICES below.
Each runs from <run dir>/<name>/ (LAKEHOUSE_RUN_DIR, default <repo>/.run): data/, <name>.log, <name>.pid.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from dataclasses import dataclass

from jobs.runtime.settings import ServiceSettings, UsageError, service_settings
from jobs.services import process
from jobs.services.base import Service, ServiceError
from jobs.services.influxdb import InfluxService
from jobs.services.kafka import KafkaService
from jobs.services.kinesis import KinesisService
from jobs.services.opensearch import OpenSearchService
from jobs.services.s3 import S3Service
from jobs.services.trino import TrinoService

__all__ = ["SERVICES", "Service", "ServiceError", "ServiceState", "down", "exports", "fetch", "select", "status", "up"]

SERVICES: dict[str, type[Service]] = {
    service.name: service
    for service in (KafkaService, KinesisService, InfluxService, OpenSearchService, TrinoService, S3Service)
}


@dataclass(frozen=True)
class ServiceState:
    """What `status` says about one service."""

    name: str
    up: bool
    pid: int | None
    address: str
    started: bool = False  # by the `up` that reports it
    note: str = ""

    def line(self) -> str:
        parts = [f"{self.name:<10}", f"{'up' if self.up else 'down':<5}", f"pid {self.pid or '-':<8}", self.address]
        return "  ".join([*parts, self.note] if self.note else parts)


def select(names: Iterable[str] = (), settings: ServiceSettings | None = None) -> list[Service]:
    """The named services (all of them for no names), placed by `settings` (default: from the environment)."""
    names = list(names) or list(SERVICES)
    unknown = [name for name in names if name not in SERVICES]
    if unknown:
        raise UsageError(f"unknown service {unknown[0]!r} (one of: {', '.join(SERVICES)})")
    settings = service_settings() if settings is None else settings
    return [SERVICES[name].configured(settings) for name in dict.fromkeys(names)]


def state_of(service: Service, started: bool = False) -> ServiceState:
    pid = process.running_pid(service)
    healthy = service.healthy()
    note = "started" if started else ""
    if healthy and pid is None:
        note = f"(not started from {service.home})"
    elif pid is not None and not healthy:
        note = f"(process runs but is not healthy; see {service.log_file})"
    return ServiceState(service.name, healthy, pid, service.address, started, note)


def _report(states: list[ServiceState], quiet: bool) -> list[ServiceState]:
    if not quiet:
        for state in states:
            print(state.line(), flush=True)
    return states


def fetch(names: Iterable[str] = (), settings: ServiceSettings | None = None) -> None:
    """Download what each service runs (idempotent: a no-op when its pins have not changed)."""
    for service in select(names, settings):
        service.fetch()


def _stop(service: Service, timeout: float) -> None:
    pid = process.running_pid(service)
    if pid is not None:
        process.terminate(service, pid, timeout)


def up(
    names: Iterable[str] = (),
    *,
    fresh: bool = False,
    timeout: float | None = None,
    settings: ServiceSettings | None = None,
    quiet: bool = False,
) -> list[ServiceState]:
    """Start each service that is not already healthy and wait for all of them; a healthy one is left alone.

    `fresh` stops a service started from the run dir and wipes its data first. The returned states tell which
    services this call started (a caller that stops only what it started, as the test fixtures do, needs that).
    """
    services = select(names, settings)
    for service in services:
        service.fetch()
    started: dict[str, int] = {}
    for service in services:
        if fresh:
            _stop(service, timeout=30.0)
            if service.healthy():
                raise ServiceError(f"{service.name} on {service.address} was not started from {service.home}")
            shutil.rmtree(service.data_dir, ignore_errors=True)
        if service.healthy():
            continue
        # A process from an earlier `up` may still be starting: wait for it rather than start a second one.
        pid = process.running_pid(service)
        if pid is None:
            service.prepare()
            pid = process.launch(service)
        started[service.name] = pid
    # All were launched before any is waited for, so their start-ups overlap.
    for service in services:
        if service.name in started:
            process.wait_until_healthy(service, started[service.name], timeout or service.start_timeout)
            service.set_up()
    states = [state_of(service, started=service.name in started) for service in services]
    return _report(states, quiet)


def down(
    names: Iterable[str] = (), *, timeout: float = 30.0, settings: ServiceSettings | None = None, quiet: bool = False
) -> list[ServiceState]:
    """Stop each service started from the run dir: SIGTERM, then SIGKILL after `timeout` seconds."""
    services = select(names, settings)
    for service in services:
        _stop(service, timeout)
    return _report([state_of(service) for service in services], quiet)


def status(
    names: Iterable[str] = (), *, settings: ServiceSettings | None = None, quiet: bool = False
) -> list[ServiceState]:
    """One line per service: up or down, pid (when started from the run dir), address."""
    return _report([state_of(service) for service in select(names, settings)], quiet)


def exports(names: Iterable[str] = (), settings: ServiceSettings | None = None) -> dict[str, str]:
    """The environment variables that point clients at the services."""
    return {key: value for service in select(names, settings) for key, value in service.exports().items()}
