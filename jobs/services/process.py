"""Starting, probing and stopping a service's process, the same way for every service.

A service runs in a session of its own (so a Ctrl-C in the terminal, or a test's dying Spark driver, does not reach
it), writes stdout and stderr to <home>/<name>.log, and is known by <home>/<name>.pid: "<pid> <start time>". The start
time (from /proc) tells our process apart from an unrelated one that got the same pid after a reboot or a crash.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import time
from pathlib import Path

from jobs.runtime.waiting import wait_until
from jobs.services.base import Service, ServiceError

POLL_SECONDS = 0.2

# Processes started by this Python process, kept so that they are reaped when they exit (a dead child that is
# never waited for stays a zombie, and a zombie's pid still answers kill(pid, 0)).
_children: dict[int, subprocess.Popen] = {}


def _start_ticks(pid: int) -> str | None:
    """The process's start time in clock ticks since boot, or None if it is gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: split after its closing one.
    fields = stat[stat.rindex(")") + 2 :].split()
    state, start_ticks = fields[0], fields[19]
    return None if state in ("Z", "X") else start_ticks


def alive(pid: int) -> bool:
    child = _children.get(pid)
    if child is not None:
        return child.poll() is None
    return _start_ticks(pid) is not None


def running_pid(service: Service) -> int | None:
    """The pid of the service started from its home, if that process still runs; a stale pid file is removed."""
    try:
        pid_text, ticks = service.pid_file.read_text().split()
        pid = int(pid_text)
    except (OSError, ValueError):
        return None
    if alive(pid) and _start_ticks(pid) == ticks:
        return pid
    service.pid_file.unlink(missing_ok=True)
    return None


def launch(service: Service) -> int:
    """Start the service in its own session, its output in its log file (replaced at each start)."""
    service.home.mkdir(parents=True, exist_ok=True)
    command = service.command()
    with service.log_file.open("w") as log:
        log.write(f"# {time.strftime('%Y-%m-%dT%H:%M:%S%z')} {shlex.join(command)}\n")
        log.flush()
        process = subprocess.Popen(
            command,
            cwd=service.home,
            # The caller's environment is passed on (PATH, JAVA_HOME), with what the service needs on top.
            env={**os.environ, **service.process_env()},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _children[process.pid] = process
    service.pid_file.write_text(f"{process.pid} {_start_ticks(process.pid)}\n")
    return process.pid


def _exit_status(pid: int) -> str:
    child = _children.get(pid)
    return f"status {child.returncode}" if child is not None else "an unknown status"


def wait_until_healthy(service: Service, pid: int, timeout: float) -> None:
    """Return once the health check passes; if the process dies or time runs out, stop it and name the log."""
    # Alive first: when the port is taken by some other program, its health check would only wait and fail.
    if not wait_until(lambda: not alive(pid) or service.healthy(), timeout, POLL_SECONDS):
        terminate(service, pid)
        raise ServiceError(
            f"{service.name} was not healthy on {service.address} within {timeout:.0f} s; see {service.log_file}"
        )
    if not alive(pid):
        service.pid_file.unlink(missing_ok=True)
        raise ServiceError(
            f"{service.name} exited with {_exit_status(pid)} before it was healthy; see {service.log_file}"
        )


def _wait_for_exit(pid: int, timeout: float) -> bool:
    return wait_until(lambda: not alive(pid), timeout, POLL_SECONDS)


def _signal_group(pid: int, signum: int) -> None:
    # The service leads its own session and process group: signal the group, so anything it spawned goes too.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signum)


def terminate(service: Service, pid: int, timeout: float = 30.0) -> None:
    """SIGTERM (a clean shutdown: Kafka flushes its logs), then SIGKILL if it is still there after `timeout`."""
    _signal_group(pid, signal.SIGTERM)
    if not _wait_for_exit(pid, timeout):
        _signal_group(pid, signal.SIGKILL)
        if not _wait_for_exit(pid, 10.0):
            raise ServiceError(f"{service.name} (pid {pid}) did not exit after SIGKILL")
    _children.pop(pid, None)
    service.pid_file.unlink(missing_ok=True)
