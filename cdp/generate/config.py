"""The shape of one generated world: period, chunking, and the chunk a person belongs to."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cdp.generate.timefmt import US_PER_DAY, US_PER_YEAR, date_us

CHUNK_SIZE = 20_000  # known customers per chunk; part of the determinism contract, never tuned per run
ANON_RATIO = 0.3  # anonymous-only visitors per known customer


@dataclass(frozen=True)
class ChunkSpec:
    index: int
    first_known: int  # 0-based index of the chunk's first known customer
    n_known: int
    first_anon: int  # 0-based index of the chunk's first anonymous-only visitor
    n_anon: int

    @property
    def n_persons(self) -> int:
        return self.n_known + self.n_anon


@dataclass(frozen=True)
class WorldConfig:
    customers: int
    seed: int
    end_date: dt.date
    years: float

    def __post_init__(self) -> None:
        if self.customers < 1:
            raise ValueError(f"customers must be at least 1, got {self.customers}")
        if not 0.1 <= self.years <= 20:
            raise ValueError(f"years must be between 0.1 and 20, got {self.years}")
        if self.seed < 0:
            raise ValueError(f"seed must be non-negative, got {self.seed}")

    @property
    def end_us(self) -> int:
        """Exclusive end of the period: midnight UTC after end_date."""
        return date_us(self.end_date) + US_PER_DAY

    @property
    def start_us(self) -> int:
        return self.end_us - int(self.years * US_PER_YEAR)

    @property
    def n_anon_total(self) -> int:
        return sum(c.n_anon for c in self.chunks())

    @property
    def n_companies(self) -> int:
        return max(40, self.customers // 40)

    def chunks(self) -> list[ChunkSpec]:
        specs = []
        first_anon = 0
        for index, first in enumerate(range(0, self.customers, CHUNK_SIZE)):
            n_known = min(CHUNK_SIZE, self.customers - first)
            n_anon = round(n_known * ANON_RATIO)
            specs.append(ChunkSpec(index, first, n_known, first_anon, n_anon))
            first_anon += n_anon
        return specs


def at_least(count: int, chunk: ChunkSpec, minimum: int) -> int:
    """`count`, raised to `minimum` in the first chunk so rare features exist in small worlds."""
    return max(count, minimum) if chunk.index == 0 else count
