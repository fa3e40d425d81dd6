"""wait_until: the one deadline loop."""

from __future__ import annotations

import time

from jobs.runtime.waiting import wait_until


def test_returns_true_as_soon_as_the_condition_holds():
    calls = []
    assert wait_until(lambda: calls.append(1) or len(calls) == 3, timeout=5, interval=0.01)
    assert len(calls) == 3


def test_returns_false_after_the_timeout_having_asked_at_the_deadline():
    calls = []
    started = time.monotonic()
    assert not wait_until(lambda: calls.append(time.monotonic()), timeout=0.2, interval=0.05)
    assert 0.2 <= time.monotonic() - started < 1.0
    assert calls[-1] - started >= 0.2
