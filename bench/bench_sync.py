"""Sync benchmarks: (1) HubSpot throughput against the local server as a share of its rate-limit
ceiling (max requests per window x 100 records), end to end through the engine and the official
client, with the share of error responses; (2) planning the diff of 1,000,000 rows with 1% changed.

    python bench/bench_sync.py [--records 40000] [--rate-max 190] [--plan-rows 1000000] [--target dev|pg]

The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cdp.sync.config import load_syncs
from cdp.sync.destinations.hubspot import HubSpotContacts, HubSpotSettings
from cdp.sync.engine import PLAN_TABLE, RunOptions, run_sync
from cdp.warehouse import Warehouse, connect, ensure_pg_database, resolve_target
from tests.servers.hubspot_server import HubSpotServer

MODEL_SCHEMA = "bench_marts"
SYNC_SCHEMA = "bench_sync"


def make_model(wh: Warehouse, rows: int) -> None:
    series = ("select cast(i as bigint) as i from range({n}) as t(i)" if wh.target.type == "duckdb"
              else "select i from generate_series(0, {n} - 1) as t(i)").format(n=rows)
    wh.execute(f"drop schema if exists {MODEL_SCHEMA} cascade")
    wh.execute(f"drop schema if exists {SYNC_SCHEMA} cascade")
    wh.execute(f"create schema {MODEL_SCHEMA}")
    wh.execute(f"""
        create table {MODEL_SCHEMA}.crm_hubspot_contacts as
        select
            cast('user' || cast(i as varchar) || '@example.com' as varchar) as email,
            cast('c' || cast(i as varchar) as varchar) as cdp_customer_id,
            cast('First' || cast(i as varchar) as varchar) as firstname,
            cast('Last' || cast(i % 1000 as varchar) as varchar) as lastname,
            cast('+44770' || cast(i as varchar) as varchar) as phone,
            cast(i % 13 as bigint) as cdp_order_count,
            cast(i * 1.25 as numeric(38, 6)) as cdp_total_revenue,
            cast(date '2025-01-01' as date) as cdp_last_order_date,
            cast(date '2024-01-01' as date) as cdp_first_seen_date,
            cast((i % 100) / 100.0 as double precision) as cdp_churn_score,
            cast((i % 10) / 10.0 as double precision) as cdp_purchase_propensity,
            cast(i * 2.5 as double precision) as cdp_lifetime_value
        from ({series}) as s
    """)


def bench_sync(sync, records: int, rate_max: int, interval: float, workers: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        target = dataclasses.replace(resolve_target("dev"), duckdb_path=Path(tmp) / "bench.duckdb")
        wh = connect(target)
        make_model(wh, records)
        with HubSpotServer(rate_limit_max=rate_max, rate_limit_interval=interval) as server:
            settings = HubSpotSettings(access_token=server.token, api_base=server.url, timeout=10.0)
            destinations: list[HubSpotContacts] = []

            def factory(s):
                destinations.append(HubSpotContacts(settings))
                return destinations[-1]

            # the window is rolling: start from an idle window, and time the sending phase only
            options = RunOptions(model_schema=MODEL_SCHEMA, sync_schema=SYNC_SCHEMA, progress=True, workers=workers)
            started = time.monotonic()
            summary = run_sync(wh, sync, options, factory)
            seconds = time.monotonic() - started - summary.plan_seconds
            held = len(server.contacts_by_email())
            stats = server.stats
        wh.close()
    ceiling = rate_max / interval * 100
    rate = summary.succeeded / seconds
    return {
        "records": records, "succeeded": summary.succeeded, "held_by_server": held,
        "requests": stats.requests, "error_responses": stats.errors(),
        "error_share": round(stats.errors() / max(stats.requests, 1), 4),
        "seconds": round(seconds, 2), "records_per_second": round(rate, 1), "ceiling_records_per_second": ceiling,
        "share_of_ceiling": round(rate / ceiling, 4),
    }


def bench_plan(sync, rows: int, target_name: str) -> dict:
    tmp = tempfile.TemporaryDirectory()
    if target_name == "pg":
        target = dataclasses.replace(resolve_target("pg"), pg_database=f"cdp_sync_bench_{uuid.uuid4().hex[:8]}")
        ensure_pg_database(target)
    else:
        target = dataclasses.replace(resolve_target("dev"), duckdb_path=Path(tmp.name) / "plan.duckdb")
    wh = connect(target)
    try:
        make_model(wh, rows)
        options = RunOptions(model_schema=MODEL_SCHEMA, sync_schema=SYNC_SCHEMA, progress=False, dry_run=True)
        run_sync(wh, sync, options)
        # a state table as if every row had been synced, then 1% of the rows changed since
        from cdp.sync import state

        state.ensure_tables(wh, SYNC_SCHEMA)
        wh.execute(f"""
            insert into {SYNC_SCHEMA}.{state.STATE} (sync_name, record_key, fields_hash, synced_hash, last_result,
                destination_id, created_by_sync, attempts, consecutive_failures)
            select '{sync.name}', record_key, fields_hash, fields_hash, 'ok', record_key, true, 1, 0
            from {PLAN_TABLE} where action = 'upsert'
        """)
        wh.execute(f"update {MODEL_SCHEMA}.crm_hubspot_contacts set firstname = firstname || '!' "
                   "where cdp_order_count = 0 and cast(substr(cdp_customer_id, 2) as bigint) % 100 < 13")
        changed = wh.query(f"select count(*) from {MODEL_SCHEMA}.crm_hubspot_contacts where firstname like '%!'")[0][0]
        if target.type == "postgres":
            wh.execute(f"analyze {SYNC_SCHEMA}.{state.STATE}")
            wh.execute(f"analyze {MODEL_SCHEMA}.crm_hubspot_contacts")
        started = time.monotonic()
        summary = run_sync(wh, sync, options)
        seconds = time.monotonic() - started
    finally:
        wh.close()
        if target.type == "postgres":
            from tests.python.conftest import drop_pg_database

            drop_pg_database(target)
        tmp.cleanup()
    assert summary.planned == changed, (summary.planned, changed)
    return {"rows": rows, "changed": int(changed), "planned": summary.planned, "unchanged": summary.unchanged,
            "plan_seconds": round(summary.plan_seconds, 2), "dry_run_seconds": round(seconds, 2),
            "warehouse": target.type}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=60_000)
    parser.add_argument("--rate-max", type=int, default=190)
    parser.add_argument("--interval", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--plan-rows", type=int, default=1_000_000)
    parser.add_argument("--target", choices=["dev", "pg"], default="dev", help="warehouse of the planning bench")
    args = parser.parse_args()
    sync = dataclasses.replace(load_syncs().get("hubspot"), consent=None, deletion_identifier=None)
    result: dict = {}
    if args.records:
        result["throughput"] = bench_sync(sync, args.records, args.rate_max, args.interval, args.workers)
        print(f"throughput: {json.dumps(result['throughput'])}", file=sys.stderr)
    if args.plan_rows:
        result["plan"] = bench_plan(sync, args.plan_rows, args.target)
        print(f"plan: {json.dumps(result['plan'])}", file=sys.stderr)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
