"""The one progress line a stage prints: rows in and out, what it dropped or touched, and how long it took."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class StageReport:
    """Counts of one stage, printed as one line."""

    stage: str
    rows_in: int = 0
    rows_out: int = 0
    details: dict[str, int] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    seconds: float = 0.0

    def add(self, name: str, count: int) -> None:
        self.details[name] = self.details.get(name, 0) + count

    def finish(self) -> StageReport:
        self.seconds = time.monotonic() - self.started
        return self

    def line(self) -> str:
        parts = [f"{self.stage:<7}", f"in {self.rows_in:>10,}", f"out {self.rows_out:>10,}"]
        parts += [f"{name} {count:,}" for name, count in self.details.items()]
        parts.append(f"{self.seconds:6.1f} s")
        return "  ".join(parts)

    def print(self) -> None:
        print(self.line(), flush=True)
