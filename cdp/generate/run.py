"""`generate()`: build the world chunk by chunk and write it to a warehouse target."""

from __future__ import annotations

import datetime as dt
import queue
import threading
from dataclasses import dataclass, field

from cdp.contract import load_contract
from cdp.generate.config import WorldConfig
from cdp.generate.identities import EmailRegistry
from cdp.generate.progress import Progress
from cdp.generate.truth import TRUTH_SCHEMA
from cdp.generate.vocab import build_vocabulary
from cdp.generate.world import CHUNK_TABLES, GLOBAL_TABLES, ChunkOutput, build_chunk, build_global_tables
from cdp.generate.writer import RawWriter
from cdp.warehouse import Target, connect, ensure_pg_database, resolve_target

DEFAULT_END_DATE = dt.date(2026, 10, 31)
DUCKDB_MEMORY_LIMIT = "1GB"


@dataclass(frozen=True)
class GenerateSummary:
    customers: int
    seed: int
    target: str
    end_date: dt.date
    years: float
    seconds: float
    rows: dict[str, int] = field(default_factory=dict)  # "source.table" -> rows written
    truth_rows: dict[str, int] = field(default_factory=dict)  # "raw_truth.table" -> rows written

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    def lines(self) -> list[str]:
        out = [
            f"generated {self.customers:,} customers (seed {self.seed}, "
            f"{self.years:g} years to {self.end_date}) "
            f"into {self.target} in {self.seconds:.1f}s: {self.total_rows:,} raw rows"
        ]
        width = max(len(k) for k in [*self.rows, *self.truth_rows])
        out += [f"  {k:<{width}}  {v:>12,}" for k, v in sorted(self.rows.items())]
        out += [f"  {k:<{width}}  {v:>12,}" for k, v in sorted(self.truth_rows.items())]
        return out


class _BackgroundWriter:
    """Writes finished chunks on a second thread while the next chunk is generated."""

    def __init__(self, writer: RawWriter) -> None:
        self.writer = writer
        self.queue: queue.Queue[ChunkOutput | None] = queue.Queue(maxsize=1)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="cdp-generate-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            if item is None:
                return
            if self.error is not None:
                continue
            try:
                for (source, table), data in item.tables.items():
                    self.writer.write(source, table, data)
                for name, data in item.truth.items():
                    self.writer.write_truth(name, data)
            except BaseException as exc:  # re-raised on the generating thread
                self.error = exc

    def put(self, item: ChunkOutput) -> None:
        self._check()
        self.queue.put(item)

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()
        self._check()

    def _check(self) -> None:
        if self.error is not None:
            raise self.error


def generate(
    customers: int,
    seed: int,
    target: str | Target = "dev",
    end_date: dt.date = DEFAULT_END_DATE,
    years: float = 2.0,
    progress: bool = True,
) -> GenerateSummary:
    """(Re)create every raw table of the contract plus raw_truth, filled with a synthetic world."""
    config = WorldConfig(customers=customers, seed=seed, end_date=end_date, years=years)
    resolved = target if isinstance(target, Target) else resolve_target(target)
    if resolved.type == "postgres":
        ensure_pg_database(resolved)
    report = Progress(customers, enabled=progress)
    warehouse = connect(resolved)
    try:
        if resolved.type == "duckdb":
            # keep DuckDB's buffer pool small: generated chunks are the other big user of memory
            warehouse.execute("set preserve_insertion_order = false")
            warehouse.execute(f"set memory_limit = '{DUCKDB_MEMORY_LIMIT}'")
        writer = RawWriter(warehouse, load_contract())
        writer.recreate(set(CHUNK_TABLES) | set(GLOBAL_TABLES))
        vocab = build_vocabulary(seed, config.start_us, config.end_us, config.n_companies)
        for (source, table), data in build_global_tables(config, vocab).items():
            writer.write(source, table, data)
        registry = EmailRegistry()
        background = _BackgroundWriter(writer)
        done, rows = 0, 0
        try:
            for chunk in config.chunks():
                output = build_chunk(config, chunk, vocab, registry)
                background.put(output)
                done += chunk.n_known
                rows += output.rows
                report.update(done, rows)
        finally:
            background.close()
        if resolved.type == "duckdb":
            warehouse.execute("checkpoint")
        raw_rows = {k: v for k, v in writer.rows.items() if not k.startswith(f"{TRUTH_SCHEMA}.")}
        truth_rows = {k: v for k, v in writer.rows.items() if k.startswith(f"{TRUTH_SCHEMA}.")}
    finally:
        warehouse.close()
    return GenerateSummary(
        customers=customers,
        seed=seed,
        target=resolved.name,
        end_date=end_date,
        years=years,
        seconds=report.elapsed,
        rows=raw_rows,
        truth_rows=truth_rows,
    )
