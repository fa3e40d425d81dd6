"""The one retry helper of every sink: transient errors are retried until the wait runs out, the client's own error
then becomes one line naming the server, and anything else passes through untouched."""

from __future__ import annotations

import pytest

from jobs.sinks.delivery import Server, batches, deliver


class Unreachable(OSError):
    pass


class Refused(Exception):
    pass


SERVER = Server(
    "Store at http://127.0.0.1:1",
    transient=lambda error: isinstance(error, Unreachable),
    describe=lambda error: f"{type(error).__name__}: {error}" if isinstance(error, Unreachable | Refused) else None,
)


def flaky(failures: int):
    attempts = []

    def call() -> str:
        attempts.append(1)
        if len(attempts) <= failures:
            raise Unreachable("connection refused")
        return "ok"

    return call, attempts


def test_a_transient_error_is_retried_until_the_call_succeeds():
    call, attempts = flaky(failures=2)
    assert deliver(SERVER, call, max_wait_seconds=10) == "ok"
    assert len(attempts) == 3


def test_after_the_wait_the_last_error_is_one_line_naming_the_server():
    call, attempts = flaky(failures=10**6)
    with pytest.raises(RuntimeError, match=r"^Store at http://127.0.0.1:1: Unreachable: connection refused$"):
        deliver(SERVER, call, max_wait_seconds=0.3)
    assert len(attempts) >= 1


def test_a_refusal_is_not_retried():
    attempts = []

    def refuse() -> None:
        attempts.append(1)
        raise Refused("mapping error")

    with pytest.raises(RuntimeError, match=r"Store at http://127\.0\.0\.1:1: Refused: mapping error"):
        deliver(SERVER, refuse, max_wait_seconds=10)
    assert len(attempts) == 1


def test_an_error_that_is_not_the_clients_passes_through():
    with pytest.raises(KeyError):
        deliver(SERVER, lambda: {}["x"], max_wait_seconds=10)


def test_batches_are_of_the_size_asked_the_last_shorter():
    assert list(batches(iter(range(7)), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(batches([], 3)) == []
