"""One progress line per chunk on stderr."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def clock(seconds: float) -> str:
    seconds = round(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Progress:
    def __init__(self, total_customers: int, enabled: bool = True, stream: TextIO | None = None) -> None:
        self.total = total_customers
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.started = time.monotonic()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def line(self, done: int, rows: int) -> str:
        elapsed = self.elapsed
        share = done / self.total if self.total else 1.0
        left = elapsed * (1 - share) / share if share > 0 else 0.0
        return (
            f"generate: {done:,}/{self.total:,} customers ({share:.0%}) · {rows:,} rows · "
            f"{clock(elapsed)} elapsed · ~{clock(left)} left"
        )

    def update(self, done: int, rows: int) -> None:
        if self.enabled:
            print(self.line(done, rows), file=self.stream, flush=True)

    def note(self, text: str) -> None:
        if self.enabled:
            print(f"generate: {text}", file=self.stream, flush=True)
