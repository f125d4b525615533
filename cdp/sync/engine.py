"""The sync engine: model -> plan (in SQL) -> deletions -> batches -> destination -> state.

1. The plan is one SQL statement in the warehouse: every model row gets its key, an md5 over
   its mapped fields cast to text, and an action: invalid (null or duplicate key), skip (no
   consent, or a suppressed person), unchanged (the hash the destination last confirmed), or
   upsert (new, changed, or failed before; every valid row with --full-resync).
2. Deletions: customers in customer_deletions join the suppression list (so they are never
   re-created) and are deleted downstream; a failed delete is retried on the next run.
3. Upserts page through the plan by key, go out in batches (several in flight), and each
   batch's confirmations land in the state table in one transaction as soon as it returns:
   a killed run loses at most its in-flight batches, whose rows the next run sends again
   (upserts are idempotent by key).
4. mirror mode then archives the records this sync created whose keys left the model.

update_only mode sends the same rows through Destination.send_updates, which updates the
records the CRM holds and creates none. A key the CRM does not hold comes back missing: the
row is counted as skipped `not_in_destination` (not failed, not retried) and the state keeps
its hash with last_result 'not_in_destination', so the plan skips it while the row stays the
same and checks the CRM again as soon as it changes (or with --full-resync). A record created
in the CRM later is therefore picked up at the row's next change, not before; run
--full-resync to look every such key up again.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, TextIO

from cdp.sync import state
from cdp.sync.config import SyncConfig, check_against_columns
from cdp.sync.destinations.base import NOT_IN_DESTINATION, Destination, DestinationError, Record, RecordResult
from cdp.warehouse import ConfigError, Warehouse, relation_schema

PLAN_TABLE = "cdp_sync_plan"
CONSENT_MODEL = "customer_consent"
DELETIONS_MODEL = "customer_deletions"
PAGE_ROWS = 5000


@dataclass
class RunOptions:
    dry_run: bool = False
    full_resync: bool = False
    sample_size: int = 5
    progress: bool = True
    workers: int = 2
    max_consecutive_batch_failures: int = 3
    model_schema: str | None = None     # default: the marts schema
    sync_schema: str | None = None      # default: <prefix>_sync
    progress_stream: TextIO | None = None


@dataclass
class RunSummary:
    sync: str
    run_id: str | None
    dry_run: bool
    status: str = "running"
    model_rows: int = 0
    planned: int = 0
    sent: int = 0
    succeeded: int = 0
    failed: int = 0
    skipped: int = 0
    invalid: int = 0
    unchanged: int = 0
    deletes_planned: int = 0
    deleted: int = 0
    delete_failed: int = 0
    archives_planned: int = 0
    archived: int = 0
    created: int = 0
    skip_reasons: dict[str, int] = field(default_factory=dict)
    invalid_reasons: dict[str, int] = field(default_factory=dict)
    sample: list[dict[str, Any]] = field(default_factory=list)
    plan_seconds: float = 0.0
    duration_seconds: float = 0.0
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "sample"}
        out["plan_seconds"] = round(self.plan_seconds, 3)
        out["duration_seconds"] = round(self.duration_seconds, 3)
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), default=str)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _text(column: str, qualifier: str = "model") -> str:
    return f"cast({qualifier}.{_q(column)} as varchar)"


def hash_expression(sync: SyncConfig) -> str:
    """md5 over the mapping and each mapped value as length:text (null as ~): unambiguous."""
    parts = [_lit(sync.mapping_signature())]
    for mapping in sync.fields:
        value = _text(mapping.column)
        parts.append(f"coalesce(cast(length({value}) as varchar) || ':' || {value}, '~')")
    return "md5(" + " || '|' || ".join(parts) + ")"


def plan_sql(sync: SyncConfig, model_schema: str, state_relation: str, suppressions_relation: str,
             full_resync: bool) -> str:
    key = _text(sync.match_column)
    if sync.match_field == "email":
        key = f"lower(trim({key}))"
    customer = _text(sync.customer_id_column) if sync.customer_id_column else "cast(null as varchar)"
    consent_join = ""
    if sync.consent is None:
        consent = "true"
    elif sync.consent.column:
        consent = f"coalesce(cast(model.{_q(sync.consent.column)} as boolean), false)"
    else:
        consent = "consent.customer_id is not null"
        consent_join = (
            f"left join (select distinct customer_id from {_q(model_schema)}.{_q(CONSENT_MODEL)} "
            f"where purpose = {_lit(sync.consent.purpose or '')} and consent_status = 'granted') as consent "
            f"on consent.customer_id = cast(model.{_q(sync.consent.customer_id_column or '')} as varchar)"
        )
    columns = ", ".join(f"model.{_q(c)}" for c in sync.columns if c != sync.match_column)
    consent_reason = _lit(f"no {sync.consent.describe()}" if sync.consent else "")
    name = _lit(sync.name)
    unchanged = "false" if full_resync else "sync_state.synced_hash = keyed.fields_hash"
    # update_only: a key the CRM did not hold is looked up again only once its row changed
    not_held = ("false" if full_resync or sync.mode != "update_only" else
                f"sync_state.last_result = {_lit(NOT_IN_DESTINATION)} and sync_state.fields_hash = keyed.fields_hash")
    return f"""
        with source_rows as (
            select
                {key} as record_key,
                {customer} as customer_id,
                {columns + ',' if columns else ''}
                {hash_expression(sync)} as fields_hash,
                {consent} as has_consent
            from {_q(model_schema)}.{_q(sync.model)} as model
            {consent_join}
        ),
        keyed as (
            select source_rows.*, count(*) over (partition by record_key) as key_rows
            from source_rows
        ),
        suppressed_keys as (
            select distinct record_key from {suppressions_relation} as s where s.sync_name = {name}
        ),
        suppressed_customers as (
            select distinct customer_id from {suppressions_relation} as s
            where s.sync_name = {name} and s.customer_id is not null
        ),
        planned as (
            select
                keyed.*,
                case
                    when keyed.record_key is null or keyed.record_key = '' then 'invalid'
                    when keyed.key_rows > 1 then 'invalid'
                    when suppressed_keys.record_key is not null or suppressed_customers.customer_id is not null
                        then 'skip'
                    when not keyed.has_consent then 'skip'
                    when {not_held} then 'skip'
                    when {unchanged} then 'unchanged'
                    else 'upsert'
                end as action,
                case
                    when keyed.record_key is null or keyed.record_key = '' then 'null key'
                    when keyed.key_rows > 1 then 'duplicate key'
                    when suppressed_keys.record_key is not null or suppressed_customers.customer_id is not null
                        then 'suppressed: the person asked to be deleted'
                    when not keyed.has_consent then {consent_reason}
                    when {not_held} then {_lit(NOT_IN_DESTINATION)}
                    when sync_state.record_key is null then 'new'
                    when sync_state.last_result = 'failed' then 'failed before'
                    when sync_state.last_result = {_lit(NOT_IN_DESTINATION)} then 'changed, not in the CRM before'
                    when sync_state.synced_hash is null then 'never confirmed'
                    when sync_state.synced_hash <> keyed.fields_hash then 'changed'
                    else 'resync'
                end as reason,
                sync_state.destination_id as state_destination_id,
                sync_state.created_by_sync as state_created_by_sync,
                sync_state.attempts as state_attempts,
                sync_state.consecutive_failures as state_consecutive_failures,
                sync_state.synced_hash as state_synced_hash,
                sync_state.last_succeeded_at as state_last_succeeded_at
            from keyed
            left join {state_relation} as sync_state
                on sync_state.sync_name = {name} and sync_state.record_key = keyed.record_key
                and keyed.key_rows = 1
            left join suppressed_keys on suppressed_keys.record_key = keyed.record_key
            left join suppressed_customers on suppressed_customers.customer_id = keyed.customer_id
        )
        select * from planned
    """


class Progress:
    def __init__(self, label: str, total: int, enabled: bool, stream: TextIO | None) -> None:
        self.label, self.total, self.enabled = label, total, enabled and total > 0
        self.stream = stream or sys.stderr
        self.start = time.monotonic()
        self.last = 0.0
        self.done = 0
        self.shown = -1

    def advance(self, rows: int, force: bool = False) -> None:
        self.done += rows
        now = time.monotonic()
        if not self.enabled or self.done == self.shown or (now - self.last < 1.0 and not force):
            return
        self.last, self.shown = now, self.done
        elapsed = max(now - self.start, 1e-6)
        rate = self.done / elapsed
        eta = (self.total - self.done) / rate if rate > 0 else float("inf")
        eta_text = f"{eta:,.0f}s" if eta != float("inf") else "?"
        print(f"{self.label}: {self.done:,}/{self.total:,} rows ({self.done / self.total:.0%}), "
              f"{rate:,.0f} rows/s, ETA {eta_text}", file=self.stream, flush=True)


class SyncEngine:
    def __init__(self, warehouse: Warehouse, sync: SyncConfig,
                 destination_factory: Callable[[SyncConfig], Destination] | None = None,
                 options: RunOptions | None = None) -> None:
        self.warehouse = warehouse
        self.sync = sync
        self.options = options or RunOptions()
        self.model_schema = self.options.model_schema or relation_schema(warehouse.target, "marts")
        self.schema = self.options.sync_schema or state.sync_schema(warehouse)
        self._factory = destination_factory
        self.destination: Destination | None = None

    # -- checks ----------------------------------------------------------------------------
    def _check(self) -> None:
        sync, wh = self.sync, self.warehouse
        if not wh.table_exists(self.model_schema, sync.model):
            raise ConfigError(f"{sync.source}: sync {sync.name!r}: key 'model': value {sync.model!r}: "
                              f"{self.model_schema}.{sync.model} does not exist (build the project with `cdp build`)")
        columns = [r[0] for r in wh.query(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
            "order by ordinal_position", [self.model_schema, sync.model])]
        check_against_columns(sync, columns, self.model_schema)
        if sync.consent is not None and sync.consent.purpose and not wh.table_exists(self.model_schema, CONSENT_MODEL):
            raise ConfigError(f"{sync.source}: sync {sync.name!r}: key 'consent': {self.model_schema}.{CONSENT_MODEL} "
                              "does not exist (build the project with `cdp build`)")
        if sync.deletion_identifier and not wh.table_exists(self.model_schema, DELETIONS_MODEL):
            raise ConfigError(f"{sync.source}: sync {sync.name!r}: key 'deletions': "
                              f"{self.model_schema}.{DELETIONS_MODEL} does not exist (build the project first)")

    def _check_destination(self, destination: Destination) -> None:
        if self.sync.mode == "update_only" and not callable(getattr(destination, "send_updates", None)):
            raise ConfigError(
                f"{self.sync.source}: sync {self.sync.name!r}: key 'mode': value 'update_only' needs a destination "
                f"that can update without creating (send_updates); {destination.name} cannot")
        if self.sync.mode == "mirror" and not hasattr(destination, "send_archives"):
            raise ConfigError(
                f"{self.sync.source}: sync {self.sync.name!r}: key 'mode': value 'mirror' needs a destination that "
                f"can archive records it created; {destination.name} cannot")

    # -- plan ------------------------------------------------------------------------------
    def build_plan(self) -> dict[str, Any]:
        """Create the temporary plan table; return counts per action and reason."""
        wh = self.warehouse
        state_rel = state.relation(wh, self.schema, state.STATE)
        sup_rel = state.relation(wh, self.schema, state.SUPPRESSIONS)
        deletions = self._deletion_candidates_sql()
        if deletions is not None:
            # people in customer_deletions count as suppressed even before a run records them (dry runs)
            sup_rel = (f"(select sync_name, record_key, customer_id from {sup_rel} as recorded union all "
                       f"select {_lit(self.sync.name)}, record_key, customer_id from ({deletions}) as requested)")
        wh.execute(f"drop table if exists {PLAN_TABLE}")
        sql = plan_sql(self.sync, self.model_schema, state_rel, sup_rel, self.options.full_resync)
        wh.execute(f"create temporary table {PLAN_TABLE} as {sql}")
        counts: dict[str, Counter] = {"invalid": Counter(), "skip": Counter(), "unchanged": Counter(),
                                      "upsert": Counter()}
        for action, reason, rows in wh.query(f"select action, reason, count(*) from {PLAN_TABLE} group by 1, 2"):
            counts[action][reason] += int(rows)
        return counts

    def _deletion_candidates_sql(self) -> str | None:
        ident = self.sync.deletion_identifier
        if not ident:
            return None
        deletions = f"{_q(self.model_schema)}.{_q(DELETIONS_MODEL)}"
        if ident == "customer_id":
            value = "cast(customer_id as varchar)"
            where = "customer_id is not null"
        else:
            value = "cast(identifier_value as varchar)"
            where = f"identifier_type = {_lit(ident)} and identifier_value is not null"
        if self.sync.match_field == "email":
            value = f"lower(trim({value}))"
        return (f"select {value} as record_key, min(cast(customer_id as varchar)) as customer_id "
                f"from {deletions} where {where} group by 1")

    def _pending_deletions(self) -> tuple[list[tuple[str, str | None]], list[tuple[str, str | None]]]:
        """(new suppressions to add, all keys whose downstream delete is not confirmed yet)."""
        sql = self._deletion_candidates_sql()
        if sql is None:
            return [], []
        sup = state.relation(self.warehouse, self.schema, state.SUPPRESSIONS)
        name = _lit(self.sync.name)
        new = self.warehouse.query(
            f"select d.record_key, d.customer_id from ({sql}) as d left join {sup} as s "
            f"on s.sync_name = {name} and s.record_key = d.record_key where s.record_key is null order by 1")
        retry = self.warehouse.query(
            f"select record_key, customer_id from {sup} as s where s.sync_name = {name} "
            "and s.delete_status <> 'ok' order by 1")
        return [(r[0], r[1]) for r in new], [(r[0], r[1]) for r in retry]

    def _archive_candidates(self) -> list[tuple[str, str]]:
        if self.sync.mode != "mirror":
            return []
        st = state.relation(self.warehouse, self.schema, state.STATE)
        return [(r[0], r[1]) for r in self.warehouse.query(
            f"select s.record_key, s.destination_id from {st} as s left join {PLAN_TABLE} as p "
            f"on p.record_key = s.record_key where s.sync_name = {_lit(self.sync.name)} and p.record_key is null "
            "and s.created_by_sync and s.last_result = 'ok' and s.destination_id is not null order by 1")]

    def _sample(self, limit: int) -> list[dict[str, Any]]:
        if limit <= 0:
            return []
        cols = ["action", "reason", "record_key", *[c for c in self.sync.columns if c != self.sync.match_column]]
        rows = self.warehouse.query(
            f"select {', '.join(_q(c) for c in cols)} from {PLAN_TABLE} "
            f"where action in ('upsert', 'invalid') order by action desc, record_key limit {int(limit)}")
        return [{c: (v.isoformat() if hasattr(v, "isoformat") else v) for c, v in zip(cols, row, strict=True)}
                for row in rows]

    # -- run -------------------------------------------------------------------------------
    def run(self) -> RunSummary:
        started = time.monotonic()
        opts, sync = self.options, self.sync
        self._check()
        if not opts.dry_run:
            factory = self._factory
            if factory is None:
                from cdp.sync.destinations.registry import create_destination

                factory = create_destination
            self.destination = factory(sync)
            self._check_destination(self.destination)
            state.ensure_tables(self.warehouse, self.schema)
            state.acquire_run_lock(self.warehouse, self.schema, sync.name)
        try:
            return self._locked_run(started)
        finally:
            if not opts.dry_run:
                state.release_run_lock(self.warehouse, self.schema, sync.name)

    def _locked_run(self, started: float) -> RunSummary:
        opts, sync = self.options, self.sync
        if not opts.dry_run:
            state.mark_interrupted(self.warehouse, self.schema, sync.name)
        summary = RunSummary(sync=sync.name, run_id=None if opts.dry_run else uuid.uuid4().hex, dry_run=opts.dry_run)
        run_row = self._run_row(summary, state.now())
        if not opts.dry_run:
            state.insert_run(self.warehouse, self.schema, run_row)
        try:
            self._run(summary)
        except BaseException as exc:
            summary.status = "failed"
            summary.error = f"{type(exc).__name__}: {exc}"
            if not opts.dry_run:
                self._finish(summary, run_row, started)
            raise
        summary.duration_seconds = time.monotonic() - started
        if not opts.dry_run:
            self._finish(summary, run_row, started)
        else:
            summary.status = "dry_run"
        return summary

    def _run(self, summary: RunSummary) -> None:
        opts, sync, wh = self.options, self.sync, self.warehouse
        new_suppressions, retry_deletes = self._pending_deletions()
        delete_keys = {k for k, _ in new_suppressions} | {k for k, _ in retry_deletes}
        summary.deletes_planned = len(delete_keys)
        if not opts.dry_run and new_suppressions:
            # suppress first: from now on these people are never sent, whatever happens next
            at = state.now()
            rows = [{"sync_name": sync.name, "record_key": k, "customer_id": c, "suppressed_at": at,
                     "reason": "customer_deletions", "delete_status": "pending", "delete_attempts": 0}
                    for k, c in new_suppressions]
            state.replace_rows(wh, self.schema, state.SUPPRESSIONS, sync.name, rows)
        t0 = time.monotonic()
        counts = self.build_plan()
        summary.plan_seconds = time.monotonic() - t0
        summary.invalid_reasons = dict(counts["invalid"])
        summary.skip_reasons = dict(counts["skip"])
        summary.invalid = sum(counts["invalid"].values())
        summary.skipped = sum(counts["skip"].values())
        summary.unchanged = sum(counts["unchanged"].values())
        summary.planned = sum(counts["upsert"].values())
        summary.model_rows = summary.invalid + summary.skipped + summary.unchanged + summary.planned
        archives = self._archive_candidates()
        summary.archives_planned = len(archives)
        summary.sample = self._sample(opts.sample_size)
        if opts.dry_run:
            return
        self._record_invalid(summary)
        if delete_keys:
            by_key = {k: c for k, c in [*retry_deletes, *new_suppressions]}
            self._delete(sorted(delete_keys), by_key, summary)
        self._upsert(summary)
        if archives:
            self._archive(archives, summary)
        if wh.target.type == "postgres" and (summary.sent or summary.deleted or summary.archived):
            # fresh statistics, so that the next run's plan joins the state table by hash
            wh.execute(f"analyze {_q(self.schema)}.{_q(state.STATE)}")

    def _run_row(self, summary: RunSummary, started_at: Any) -> dict[str, Any]:
        return {"run_id": summary.run_id, "sync_name": self.sync.name, "destination": self.sync.destination,
                "mode": self.sync.mode, "full_resync": self.options.full_resync, "started_at": started_at,
                "status": "running"}

    def _finish(self, summary: RunSummary, run_row: dict[str, Any], started: float) -> None:
        summary.duration_seconds = time.monotonic() - started
        if summary.status == "running":
            summary.status = "succeeded" if summary.failed == 0 and summary.delete_failed == 0 else "partial"
        run_row.update({
            "finished_at": state.now(), "status": summary.status, "model_rows": summary.model_rows,
            "planned": summary.planned, "sent": summary.sent, "succeeded": summary.succeeded,
            "failed": summary.failed, "skipped": summary.skipped, "invalid": summary.invalid,
            "unchanged": summary.unchanged, "deleted": summary.deleted, "delete_failed": summary.delete_failed,
            "archived": summary.archived, "skip_reasons": json.dumps(summary.skip_reasons),
            "duration_seconds": round(summary.duration_seconds, 3), "error": summary.error,
        })
        state.update_run(self.warehouse, self.schema, run_row)

    def _record_invalid(self, summary: RunSummary) -> None:
        if not summary.invalid:
            return
        at = state.now().isoformat(sep=" ")
        self.warehouse.execute(
            f'insert into {_q(self.schema)}.{_q(state.ROW_RESULTS)} '
            "(run_id, sync_name, record_key, operation, ok, error, destination_id, created, recorded_at) "
            f"select {_lit(summary.run_id or '')}, {_lit(self.sync.name)}, record_key, 'invalid', false, reason, "
            f"cast(null as varchar), cast(null as boolean), cast({_lit(at)} as timestamp) "
            f"from {PLAN_TABLE} where action = 'invalid'")

    # -- deletions -------------------------------------------------------------------------
    def _delete(self, keys: list[str], customers: dict[str, str | None], summary: RunSummary) -> None:
        assert self.destination is not None
        size = self.destination.max_batch_size
        sup = {r[0]: r for r in self.warehouse.query(
            f"select record_key, suppressed_at, delete_attempts from {_q(self.schema)}.{_q(state.SUPPRESSIONS)} "
            f"where sync_name = ?", [self.sync.name])}
        progress = Progress(f"sync {self.sync.name} deletes", len(keys), self.options.progress,
                            self.options.progress_stream)
        for start in range(0, len(keys), size):
            chunk = keys[start:start + size]
            try:
                results = self.destination.send_deletes(self.sync.match_field, chunk)
            except DestinationError as exc:
                results = [RecordResult(key=k, ok=False, error=str(exc)) for k in chunk]
            at = state.now()
            sup_rows, result_rows, state_rows = [], [], []
            for result in results:
                previous = sup.get(result.key)
                sup_rows.append({
                    "sync_name": self.sync.name, "record_key": result.key, "customer_id": customers.get(result.key),
                    "reason": "customer_deletions", "suppressed_at": previous[1] if previous else at,
                    "delete_status": "ok" if result.ok else "failed", "delete_error": result.error,
                    "delete_attempts": (int(previous[2] or 0) if previous else 0) + 1,
                    "deleted_at": at if result.ok else None})
                result_rows.append(self._result_row(summary, result, "delete", at))
                if result.ok:
                    summary.deleted += 1
                    state_rows.append({"sync_name": self.sync.name, "record_key": result.key, "last_result": "deleted",
                                       "last_attempted_at": at, "last_run_id": summary.run_id, "attempts": 1,
                                       "consecutive_failures": 0})
                else:
                    summary.delete_failed += 1
            state.replace_rows(self.warehouse, self.schema, state.SUPPRESSIONS, self.sync.name, sup_rows,
                               extra=[(state.ROW_RESULTS, result_rows)])
            if state_rows:
                state.replace_rows(self.warehouse, self.schema, state.STATE, self.sync.name, state_rows)
            progress.advance(len(chunk))

    # -- upserts ---------------------------------------------------------------------------
    def _pages(self) -> Iterator[list[tuple]]:
        cols = ["record_key", "fields_hash", "state_destination_id", "state_created_by_sync", "state_attempts",
                "state_consecutive_failures", "state_synced_hash", "state_last_succeeded_at",
                *[m.column for m in self.sync.fields]]
        select = ", ".join(_q(c) for c in cols)
        last: str | None = None
        while True:
            where = "action = 'upsert'" + (" and record_key > ?" if last is not None else "")
            rows = self.warehouse.query(
                f"select {select} from {PLAN_TABLE} where {where} order by record_key limit {PAGE_ROWS}",
                [last] if last is not None else None)
            if not rows:
                return
            yield rows
            last = rows[-1][0]

    def _upsert(self, summary: RunSummary) -> None:
        assert self.destination is not None
        destination, sync = self.destination, self.sync
        if summary.planned == 0:
            return
        destination.ensure_fields(sync.field_types())
        batch_size = max(1, min(sync.batch_size, destination.max_batch_size))
        progress = Progress(f"sync {sync.name}", summary.planned, self.options.progress, self.options.progress_stream)
        nfields = len(sync.fields)
        consecutive_failures = 0
        aborted: str | None = None
        in_flight: dict[Future, list[tuple]] = {}
        max_in_flight = max(1, self.options.workers) * 2

        def collect(done: Sequence[Future]) -> None:
            nonlocal consecutive_failures, aborted
            for future in done:
                rows = in_flight.pop(future)
                try:
                    results = future.result()
                    consecutive_failures = 0
                except DestinationError as exc:
                    consecutive_failures += 1
                    results = [RecordResult(key=r[0], ok=False, error=str(exc)) for r in rows]
                    if consecutive_failures >= self.options.max_consecutive_batch_failures and aborted is None:
                        aborted = str(exc)
                self._record_batch(summary, rows, results)
                progress.advance(len(rows))

        send = destination.send_updates if sync.mode == "update_only" else destination.send_upserts
        with ThreadPoolExecutor(max_workers=max(1, self.options.workers)) as pool:
            batch: list[tuple] = []

            def submit(rows: list[tuple]) -> None:
                records = []
                for row in rows:
                    values = row[8:8 + nfields]
                    fields = {m.field: v for m, v in zip(sync.fields, values, strict=True)
                              if v is not None or m.send_nulls}
                    records.append(Record(key=row[0], fields=fields))
                in_flight[pool.submit(send, sync.match_field, records)] = rows

            for page in self._pages():
                for row in page:
                    batch.append(row)
                    if len(batch) == batch_size:
                        while len(in_flight) >= max_in_flight:
                            done, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
                            collect(list(done))
                        if aborted:
                            break
                        submit(batch)
                        batch = []
                if aborted:
                    break
            if batch and not aborted:
                submit(batch)
            while in_flight:
                done, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
                collect(list(done))
        progress.advance(0, force=True)
        if aborted:
            summary.status = "failed"
            summary.error = (f"stopped after {self.options.max_consecutive_batch_failures} batches failed in a row: "
                             f"{aborted}")

    def _record_batch(self, summary: RunSummary, rows: list[tuple], results: list[RecordResult]) -> None:
        at = state.now()
        by_key = {r.key: r for r in results}
        state_rows, result_rows = [], []
        summary.sent += len(rows)
        operation = "update" if self.sync.mode == "update_only" else "upsert"
        for row in rows:
            key, fields_hash, dest_id, created_before, attempts, failures, synced_hash, succeeded_at = row[:8]
            result = by_key.get(key) or RecordResult(key=key, ok=False, error="the destination returned no result")
            ok = result.ok
            if result.missing and not ok:
                # update_only and the CRM holds no such record: skipped, remembered by hash, not retried
                summary.skipped += 1
                summary.skip_reasons[NOT_IN_DESTINATION] = summary.skip_reasons.get(NOT_IN_DESTINATION, 0) + 1
                state_rows.append({
                    "sync_name": self.sync.name, "record_key": key, "fields_hash": fields_hash, "synced_hash": None,
                    "last_result": NOT_IN_DESTINATION, "last_error": result.error, "destination_id": None,
                    "created_by_sync": bool(created_before), "attempts": int(attempts or 0) + 1,
                    "consecutive_failures": 0, "last_attempted_at": at, "last_succeeded_at": succeeded_at,
                    "last_run_id": summary.run_id,
                })
                result_rows.append(self._result_row(summary, result, "skip", at))
                continue
            if ok:
                summary.succeeded += 1
                summary.created += 1 if result.created else 0
            else:
                summary.failed += 1
            state_rows.append({
                "sync_name": self.sync.name, "record_key": key, "fields_hash": fields_hash,
                "synced_hash": fields_hash if ok else synced_hash,
                "last_result": "ok" if ok else "failed", "last_error": None if ok else result.error,
                "destination_id": result.destination_id or dest_id,
                "created_by_sync": bool(created_before) or bool(result.created),
                "attempts": int(attempts or 0) + 1, "consecutive_failures": 0 if ok else int(failures or 0) + 1,
                "last_attempted_at": at, "last_succeeded_at": at if ok else succeeded_at,
                "last_run_id": summary.run_id,
            })
            result_rows.append(self._result_row(summary, result, operation, at))
        state.replace_rows(self.warehouse, self.schema, state.STATE, self.sync.name, state_rows,
                           extra=[(state.ROW_RESULTS, result_rows)])

    def _result_row(self, summary: RunSummary, result: RecordResult, operation: str, at: Any) -> dict[str, Any]:
        return {"run_id": summary.run_id, "sync_name": self.sync.name, "record_key": result.key,
                "operation": operation, "ok": result.ok, "error": result.error,
                "destination_id": result.destination_id, "created": result.created, "recorded_at": at}

    # -- mirror ----------------------------------------------------------------------------
    def _archive(self, archives: list[tuple[str, str]], summary: RunSummary) -> None:
        destination = self.destination
        assert destination is not None
        archive = destination.send_archives  # type: ignore[attr-defined]
        keys_by_id = {dest_id: key for key, dest_id in archives}
        size = destination.max_batch_size
        ids = [dest_id for _, dest_id in archives]
        for start in range(0, len(ids), size):
            chunk = ids[start:start + size]
            try:
                results = archive(chunk)
            except DestinationError as exc:
                results = [RecordResult(key=i, ok=False, destination_id=i, error=str(exc)) for i in chunk]
            at = state.now()
            state_rows, result_rows = [], []
            for result in results:
                key = keys_by_id.get(result.destination_id or result.key, result.key)
                keyed = RecordResult(key=key, ok=result.ok, destination_id=result.destination_id, error=result.error)
                result_rows.append(self._result_row(summary, keyed, "archive", at))
                if result.ok:
                    summary.archived += 1
                    state_rows.append({"sync_name": self.sync.name, "record_key": key, "last_result": "archived",
                                       "destination_id": result.destination_id, "created_by_sync": True,
                                       "last_attempted_at": at, "last_run_id": summary.run_id, "attempts": 1,
                                       "consecutive_failures": 0})
                else:
                    summary.failed += 1
            state.replace_rows(self.warehouse, self.schema, state.STATE, self.sync.name, state_rows,
                               extra=[(state.ROW_RESULTS, result_rows)])


def run_sync(warehouse: Warehouse, sync: SyncConfig, options: RunOptions | None = None,
             destination_factory: Callable[[SyncConfig], Destination] | None = None) -> RunSummary:
    return SyncEngine(warehouse, sync, destination_factory, options).run()
