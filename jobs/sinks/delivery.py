"""How every sink talks to its server: records sent in lists of a fixed size, each call retried while the server is
briefly away, and a failure that outlasts the retries reported as one line naming the server; and the integers
every sink can hold."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from pyspark.sql import Column
from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_exponential

Item = TypeVar("Item")


def sink_integer(exact: Column) -> Column:
    """An exact gold sum as the 64-bit integer InfluxDB and OpenSearch hold, or null beyond 64 bits (a sink would
    refuse the whole batch): the sink then has no value for that field, and gold keeps the exact one."""
    return exact.try_cast("bigint")


Result = TypeVar("Result")


def batches(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    """`items` in lists of `size` (the last one shorter), read lazily: a Spark partition is never held whole."""
    batch: list[Item] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


@dataclass(frozen=True)
class Server:
    """A sink's server, as the retries see it."""

    label: str  # names it in errors: "InfluxDB at http://127.0.0.1:18086"
    transient: Callable[[BaseException], bool]  # worth another attempt: unreachable, busy, failing
    describe: Callable[[BaseException], str | None]  # one line for an error of its client library, None for others


def deliver(server: Server, call: Callable[[], Result], max_wait_seconds: float) -> Result:
    """`call()`, with transient errors retried with exponential backoff (0.5 s doubling to 8 s) until
    `max_wait_seconds` have passed. The client's error that ends it becomes one RuntimeError line naming the server:
    a job reports that line, in the driver and from a Spark task alike."""
    retrying = Retrying(
        retry=retry_if_exception(server.transient),
        wait=wait_exponential(multiplier=0.5, max=8),
        stop=stop_after_delay(max_wait_seconds),
        reraise=True,
    )
    try:
        return retrying(call)
    except Exception as error:
        line = server.describe(error)
        if line is None:
            raise
        raise RuntimeError(f"{server.label}: {line}") from error
