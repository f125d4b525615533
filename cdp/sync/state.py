"""The sync's memory in the warehouse (schema <prefix>_sync): what each key last sent and
whether the destination confirmed it, the suppression list of deleted people, one row per run
and one row per record sent.

Rows are replaced key by key (delete + insert in one transaction per batch), the same SQL on
DuckDB and Postgres.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from cdp.warehouse import Warehouse, relation_schema

STATE = "sync_state"
SUPPRESSIONS = "sync_suppressions"
RUNS = "sync_runs"
ROW_RESULTS = "sync_row_results"

TS = pa.timestamp("us")

SCHEMAS: dict[str, pa.Schema] = {
    STATE: pa.schema([
        ("sync_name", pa.string()), ("record_key", pa.string()),
        ("fields_hash", pa.string()),        # hash of the mapped fields last attempted
        ("synced_hash", pa.string()),        # hash the destination last confirmed (null: never)
        ("last_result", pa.string()),        # ok | failed | deleted | archived | not_in_destination
                                             # (update_only: the CRM held no such record; fields_hash
                                             # is the row then, re-checked when the row changes)
        ("last_error", pa.string()),
        ("destination_id", pa.string()),
        ("created_by_sync", pa.bool_()),     # the destination said this sync created the record
        ("attempts", pa.int64()),            # sends of this key, all runs
        ("consecutive_failures", pa.int64()),
        ("last_attempted_at", TS), ("last_succeeded_at", TS),
        ("last_run_id", pa.string()),
    ]),
    SUPPRESSIONS: pa.schema([
        ("sync_name", pa.string()), ("record_key", pa.string()), ("customer_id", pa.string()),
        ("reason", pa.string()), ("suppressed_at", TS),
        ("delete_status", pa.string()),      # pending | ok | failed
        ("delete_error", pa.string()), ("delete_attempts", pa.int64()), ("deleted_at", TS),
    ]),
    RUNS: pa.schema([
        ("run_id", pa.string()), ("sync_name", pa.string()), ("destination", pa.string()),
        ("mode", pa.string()), ("full_resync", pa.bool_()),
        ("started_at", TS), ("finished_at", TS),
        ("status", pa.string()),             # running | succeeded | partial | failed | interrupted
        ("model_rows", pa.int64()), ("planned", pa.int64()), ("sent", pa.int64()),
        ("succeeded", pa.int64()), ("failed", pa.int64()), ("skipped", pa.int64()),
        ("invalid", pa.int64()), ("unchanged", pa.int64()), ("deleted", pa.int64()),
        ("delete_failed", pa.int64()), ("archived", pa.int64()),
        ("skip_reasons", pa.string()),       # JSON object reason -> rows
        ("duration_seconds", pa.float64()), ("error", pa.string()),
    ]),
    ROW_RESULTS: pa.schema([
        ("run_id", pa.string()), ("sync_name", pa.string()), ("record_key", pa.string()),
        ("operation", pa.string()),          # upsert | update | skip | delete | archive | invalid
                                             # (skip: update_only found no such record in the CRM)
        ("ok", pa.bool_()), ("error", pa.string()), ("destination_id", pa.string()),
        ("created", pa.bool_()), ("recorded_at", TS),
    ]),
}

_SQL_TYPES = {pa.string(): "varchar", pa.bool_(): "boolean", pa.int64(): "bigint", TS: "timestamp",
              pa.float64(): "double precision"}


def sync_schema(warehouse: Warehouse) -> str:
    return relation_schema(warehouse.target, "sync")


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def ensure_tables(warehouse: Warehouse, schema: str) -> None:
    """Create the schema and the state tables that do not exist yet. Existing ones are left
    alone, so a role that may write them but not create schemas (the sync role on Postgres,
    whose schema the build creates) runs the sync too."""
    exists = warehouse.query(
        f"select count(*) from information_schema.schemata where schema_name = '{schema}'")[0][0]
    if not exists:
        warehouse.execute(f'create schema "{schema}"')
    for table, arrow_schema in SCHEMAS.items():
        if warehouse.table_exists(schema, table):
            continue
        columns = ", ".join(f'"{f.name}" {_SQL_TYPES[f.type]}' for f in arrow_schema)
        warehouse.execute(f'create table "{schema}"."{table}" ({columns})')
        if warehouse.target.type == "postgres" and table in (STATE, SUPPRESSIONS):
            warehouse.execute(f'create index "{table}_key" on "{schema}"."{table}" (sync_name, record_key)')


def relation(warehouse: Warehouse, schema: str, table: str) -> str:
    """The table, or an empty relation with its columns when it does not exist yet (dry runs
    write nothing, not even the state tables)."""
    if warehouse.table_exists(schema, table):
        return f'"{schema}"."{table}"'
    columns = ", ".join(f'cast(null as {_SQL_TYPES[f.type]}) as "{f.name}"' for f in SCHEMAS[table])
    return f"(select {columns} where 1 = 0)"


def to_arrow(table: str, rows: Sequence[dict[str, Any]]) -> pa.Table:
    schema = SCHEMAS[table]
    return pa.table({f.name: pa.array([row.get(f.name) for row in rows], type=f.type) for f in schema}, schema=schema)


def replace_rows(warehouse: Warehouse, schema: str, table: str, sync_name: str, rows: Sequence[dict[str, Any]],
                 extra: Sequence[tuple[str, Sequence[dict[str, Any]]]] = ()) -> None:
    """In one transaction: replace `rows` of `table` by (sync_name, record_key), and append the
    `extra` rows (table, rows) such as the per-row results of the same batch."""
    warehouse.execute("begin")
    try:
        if rows:
            keys = [row["record_key"] for row in rows]
            for start in range(0, len(keys), 500):
                chunk = keys[start:start + 500]
                marks = ", ".join("?" for _ in chunk)
                warehouse.execute(f'delete from "{schema}"."{table}" where sync_name = ? and record_key in ({marks})',
                                  [sync_name, *chunk])
            warehouse.write_arrow(schema, table, to_arrow(table, rows))
        for other, other_rows in extra:
            if other_rows:
                warehouse.write_arrow(schema, other, to_arrow(other, other_rows))
        warehouse.execute("commit")
    except BaseException:
        warehouse.execute("rollback")
        raise


def insert_run(warehouse: Warehouse, schema: str, run: dict[str, Any]) -> None:
    warehouse.write_arrow(schema, RUNS, to_arrow(RUNS, [run]))


def update_run(warehouse: Warehouse, schema: str, run: dict[str, Any]) -> None:
    warehouse.execute("begin")
    try:
        warehouse.execute(f'delete from "{schema}"."{RUNS}" where run_id = ?', [run["run_id"]])
        warehouse.write_arrow(schema, RUNS, to_arrow(RUNS, [run]))
        warehouse.execute("commit")
    except BaseException:
        warehouse.execute("rollback")
        raise


class SyncAlreadyRunning(RuntimeError):
    """Another process is running the same sync against the same sync state."""


def _lock_key(schema: str, sync_name: str) -> str:
    return f"cdp_sync:{schema}:{sync_name}"


def acquire_run_lock(warehouse: Warehouse, schema: str, sync_name: str) -> None:
    """Make sure no other process runs this sync at the same time: on Postgres a session advisory
    lock per sync state schema and sync, taken before a run and released after it (a killed
    process's session ends and frees it). DuckDB needs none: one process at a time may write a
    DuckDB file, so a second run cannot even open the warehouse."""
    if warehouse.target.type == "duckdb":
        return
    if warehouse.query("select pg_try_advisory_lock(hashtext(?))", [_lock_key(schema, sync_name)])[0][0]:
        return
    running = warehouse.query(
        f'select run_id, started_at from "{schema}"."{RUNS}" where sync_name = ? and status = ? '
        "order by started_at desc limit 1", [sync_name, "running"])
    which = f" (run {running[0][0]}, started {running[0][1]:%Y-%m-%d %H:%M:%S} UTC)" if running else ""
    raise SyncAlreadyRunning(f"sync {sync_name!r} is already running in another process{which}; "
                             "wait for it to end, or stop it, then run again")


def release_run_lock(warehouse: Warehouse, schema: str, sync_name: str) -> None:
    if warehouse.target.type != "duckdb":
        warehouse.query("select pg_advisory_unlock(hashtext(?))", [_lock_key(schema, sync_name)])


def mark_interrupted(warehouse: Warehouse, schema: str, sync_name: str) -> int:
    """Runs of this sync still 'running' were killed: say so."""
    rows = warehouse.query(
        f'select count(*) from "{schema}"."{RUNS}" where sync_name = ? and status = ?', [sync_name, "running"])
    if rows[0][0]:
        warehouse.execute(
            f"update \"{schema}\".\"{RUNS}\" set status = 'interrupted', "
            "error = 'the process stopped before the run ended' "
            "where sync_name = ? and status = 'running'", [sync_name])
    return int(rows[0][0])
