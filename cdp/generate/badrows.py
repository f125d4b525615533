"""Rows staging must reject or deduplicate: redeliveries, null keys, unparseable text, bad numbers.

Each function takes a finished table and returns it with a small share of rows spoiled or repeated;
the first chunk always gets a few of each kind so even tiny worlds contain them.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cdp.generate.arrowkit import TS_TYPE, dense, replace_rows, take
from cdp.generate.config import ChunkSpec, at_least
from cdp.generate.timefmt import US_PER_H

# loader timestamp column of every keyed source table
LOADER_COLUMN: dict[tuple[str, str], str] = {
    ("segment", "identifies"): "uuid_ts",
    ("segment", "pages"): "uuid_ts",
    ("segment", "screens"): "uuid_ts",
    ("segment", "tracks"): "uuid_ts",
    ("email", "email_events"): "_loaded_at",
    ("ads", "ad_clicks"): "_fivetran_synced",
    ("ads", "ad_conversions"): "_fivetran_synced",
    ("ads", "ad_spend"): "_fivetran_synced",
    ("pos", "transactions"): "_loaded_at",
    ("pos", "transaction_lines"): "_loaded_at",
    ("crm", "contacts"): "_loaded_at",
    ("crm", "companies"): "_loaded_at",
    ("crm", "deals"): "_loaded_at",
    ("support", "tickets"): "_fivetran_synced",
    ("shop", "customers"): "_fivetran_synced",
    ("shop", "orders"): "_fivetran_synced",
    ("shop", "order_lines"): "_fivetran_synced",
    ("consent", "consent_events"): "_loaded_at",
    ("consent", "deletion_requests"): "_loaded_at",
}
BAD_TIMESTAMPS = ["2024-02-30 10:00:00", "31/12/2024", "yesterday", ""]
BAD_DATES = ["2024-02-30", "31/12/2024", "yesterday", ""]
BAD_TIMES = ["25:61:00", "noon", ""]


def _rows(rng: np.random.Generator, n: int, rate: float, chunk: ChunkSpec, minimum: int) -> np.ndarray:
    k = min(at_least(int(rng.binomial(n, rate)), chunk, minimum), n)
    return np.sort(rng.choice(n, k, replace=False)) if k else np.zeros(0, dtype=np.int64)


def set_values(table: pa.Table, column: str, rows: np.ndarray, values: pa.Array) -> pa.Table:
    i = table.schema.get_field_index(column)
    col = dense(table.column(i).combine_chunks())
    return table.set_column(i, column, replace_rows(col, rows, values.cast(col.type)))


def redeliver(
    rng: np.random.Generator, table: pa.Table, loader: str, chunk: ChunkSpec, rate: float = 0.003
) -> pa.Table:
    """Append exact copies of some rows with a later loader timestamp."""
    rows = _rows(rng, table.num_rows, rate, chunk, 4)
    if not len(rows):
        return table
    copies = table.take(pa.array(rows))
    i = copies.schema.get_field_index(loader)
    later = copies.column(i).combine_chunks().cast(pa.int64()).to_numpy() + (
        rng.uniform(1, 72, len(rows)) * US_PER_H
    ).astype(np.int64)
    copies = copies.set_column(i, loader, pa.array(later).view(TS_TYPE))
    return pa.concat_tables([table, copies.cast(table.schema)])


def _choice(rng: np.random.Generator, words: list[str], k: int) -> pa.Array:
    return take(pa.array(words), rng.integers(0, len(words), k))


def spoil_segment(rng: np.random.Generator, table: pa.Table, chunk: ChunkSpec) -> pa.Table:
    rows = _rows(rng, table.num_rows, 0.0005, chunk, 3)
    table = set_values(table, "id", rows, pa.nulls(len(rows), pa.string()))
    rows = _rows(rng, table.num_rows, 0.0005, chunk, 3)
    table = set_values(table, "anonymous_id", rows, pa.nulls(len(rows), pa.string()))
    return set_values(table, "user_id", rows, pa.nulls(len(rows), pa.string()))


def spoil_text_timestamps(rng: np.random.Generator, table: pa.Table, column: str, chunk: ChunkSpec) -> pa.Table:
    rows = _rows(rng, table.num_rows, 0.002, chunk, 4)
    return set_values(table, column, rows, _choice(rng, BAD_TIMESTAMPS, len(rows)))


def spoil_email_events(rng: np.random.Generator, table: pa.Table, chunk: ChunkSpec) -> pa.Table:
    table = spoil_text_timestamps(rng, table, "occurred_at", chunk)
    rows = _rows(rng, table.num_rows, 0.001, chunk, 4)
    email = pc.take(dense(table.column("email").combine_chunks()), pa.array(rows))
    parts = pc.split_pattern(pc.utf8_trim_whitespace(email), "@", max_splits=1)
    local, domain = pc.list_element(parts, 0), pc.coalesce(pc.list_element(parts, 1), "gmail.com")
    kind = np.arange(len(rows)) % 4
    bad = pc.case_when(
        pc.make_struct(pa.array(kind == 0), pa.array(kind == 1), pa.array(kind == 2)),
        pc.binary_join_element_wise(local, "@", ""),
        pc.binary_join_element_wise(local, " at ", domain, ""),
        pc.binary_join_element_wise("@", domain, ""),
        pa.repeat("n/a", len(rows)),
    )
    return set_values(table, "email", rows, bad)


def spoil_pos(rng: np.random.Generator, tx: pa.Table, lines: pa.Table, chunk: ChunkSpec) -> tuple[pa.Table, pa.Table]:
    rows = _rows(rng, tx.num_rows, 0.001, chunk, 4)
    tx = set_values(tx, "transaction_date", rows, _choice(rng, BAD_DATES, len(rows)))
    rows = _rows(rng, tx.num_rows, 0.0005, chunk, 3)
    tx = set_values(tx, "transaction_time", rows, _choice(rng, BAD_TIMES, len(rows)))
    sale = np.flatnonzero(pc.equal(tx.column("transaction_type"), "sale").to_numpy(zero_copy_only=False))
    rows = sale[_rows(rng, len(sale), 0.0005, chunk, 3)]
    tx = set_values(tx, "item_count", rows, _choice(rng, ["-1", "-2", "-3"], len(rows)))
    rows = _rows(rng, tx.num_rows, 0.001, chunk, 4)
    tx = set_values(tx, "total_amount", rows, _choice(rng, ["N/A", "12,50", "1.234,00", "--"], len(rows)))
    rows = _rows(rng, lines.num_rows, 0.001, chunk, 4)
    lines = set_values(lines, "quantity", rows, _choice(rng, ["0", "-1", "-2"], len(rows)))
    rows = _rows(rng, lines.num_rows, 0.0005, chunk, 2)
    lines = set_values(lines, "unit_price", rows, _choice(rng, ["N/A", "12,50"], len(rows)))
    return tx, lines


def spoil_order_lines(rng: np.random.Generator, lines: pa.Table, chunk: ChunkSpec) -> pa.Table:
    rows = _rows(rng, lines.num_rows, 0.001, chunk, 4)
    return set_values(lines, "quantity", rows, pa.array((-(np.arange(len(rows)) % 3)).astype(np.int32)))


def spoil_consent(
    rng: np.random.Generator, events: pa.Table, requests: pa.Table, chunk: ChunkSpec
) -> tuple[pa.Table, pa.Table]:
    events = spoil_text_timestamps(rng, events, "occurred_at", chunk)
    rows = _rows(rng, events.num_rows, 0.0005, chunk, 3)
    events = set_values(events, "purpose", rows, _choice(rng, ["marketing", "profiling", "EMAIL_MARKETING"], len(rows)))
    rows = _rows(rng, events.num_rows, 0.0005, chunk, 3)
    events = set_values(events, "status", rows, _choice(rng, ["maybe", "pending", "yes"], len(rows)))
    rows = _rows(rng, events.num_rows, 0.0005, chunk, 3)
    events = set_values(events, "subject_value", rows, pa.nulls(len(rows), pa.string()))
    rows = _rows(rng, requests.num_rows, 0.01, chunk, 2)
    requests = set_values(requests, "requested_at", rows, _choice(rng, BAD_TIMESTAMPS, len(rows)))
    rows = _rows(rng, requests.num_rows, 0.02, chunk, 2)
    for col in ("email", "phone", "user_id"):
        requests = set_values(requests, col, rows, pa.nulls(len(rows), pa.string()))
    return events, requests


def spoil_chunk(rng: np.random.Generator, tables: dict[tuple[str, str], pa.Table], chunk: ChunkSpec) -> None:
    """Spoil and redeliver, in place, the rows of one chunk's source tables."""
    for name in ("identifies", "pages", "screens", "tracks"):
        tables[("segment", name)] = spoil_segment(rng, tables[("segment", name)], chunk)
    tables[("email", "email_events")] = spoil_email_events(rng, tables[("email", "email_events")], chunk)
    tables[("pos", "transactions")], tables[("pos", "transaction_lines")] = spoil_pos(
        rng, tables[("pos", "transactions")], tables[("pos", "transaction_lines")], chunk
    )
    tables[("shop", "order_lines")] = spoil_order_lines(rng, tables[("shop", "order_lines")], chunk)
    tables[("crm", "contacts")] = spoil_text_timestamps(rng, tables[("crm", "contacts")], "createdate", chunk)
    tables[("consent", "consent_events")], tables[("consent", "deletion_requests")] = spoil_consent(
        rng, tables[("consent", "consent_events")], tables[("consent", "deletion_requests")], chunk
    )
    for key, table in tables.items():
        if key in LOADER_COLUMN:
            tables[key] = redeliver(rng, table, LOADER_COLUMN[key], chunk)
