"""Benchmark the whole build on DuckDB: a full build, then an incremental one after 1% new events.

    python bench/bench_build.py --customers 1000000 [--seed 11] [--new-share 0.01] [--dir D] [--stage S]
                                [--workload spread|recent|both]

Generates the world into a temporary DuckDB file, runs `dbt build` (seeds, models, tests, the
Python scoring models) and times it, then appends new events (a share of the rows of every
event table, drawn at random over the whole history, copied with new keys and moved one day
later: late events spread over two years, touching about a third of the customers, rather than
a day of fresh traffic from the customers active that day) and runs `dbt build` again,
incrementally; then adds the other workload, that fresh traffic (each event table's latest 1%
of rows again, moved later by the stretch they cover), and builds again (`--workload spread`
or `recent`: that batch only). Prints each step and one JSON line: rows, seconds of the full
build and of each incremental one with its ratio to the full, the peak RSS of the dbt processes, and
the seconds the Python scoring models (lifetime value, churn, propensity, next best action,
RFM) took inside the full build.

--stage full generates the world and runs the full build only; --stage incremental then adds the
new events to the database in --dir and runs the incremental build (of the code checked out
then), printing the full build's time from the run results the first stage kept there.
--keep-raw FILE copies the generated database to FILE before the full build; --raw-from FILE starts
from such a copy instead of generating (the same world, without the minutes of generation).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cdp.contract import load_contract  # noqa: E402
from cdp.dbt_runner import run_dbt  # noqa: E402
from cdp.generate import generate  # noqa: E402
from cdp.warehouse import Target, connect, relation_schema, resolve_target  # noqa: E402

# Event tables and their key column: the tables whose rows become customer_events.
EVENT_TABLES = {
    ("segment", "pages"): "id", ("segment", "tracks"): "id", ("segment", "screens"): "id",
    ("segment", "identifies"): "id", ("email", "email_events"): "event_id", ("ads", "ad_clicks"): "click_id",
    ("shop", "orders"): "id", ("pos", "transactions"): "transaction_id", ("support", "tickets"): "id",
}


# The column that orders each event table's rows in time (the latest rows are copied as the
# next stretch of traffic by the "recent" workload).
EVENT_TIME = {
    ("segment", "pages"): "timestamp", ("segment", "tracks"): "timestamp", ("segment", "screens"): "timestamp",
    ("segment", "identifies"): "timestamp", ("email", "email_events"): "_loaded_at",
    ("ads", "ad_clicks"): "clicked_at", ("shop", "orders"): "created_at", ("pos", "transactions"): "_loaded_at",
    ("support", "tickets"): "created_at",
}
WORKLOADS = ("spread", "recent")


def add_new_events(target: Target, share: float, seed: int = 7, workload: str = "spread") -> int:
    """Copy `share` of every event table's rows with new keys; returns rows added.

    workload "spread": rows drawn at random over the whole history, moved one day later (late
    events touching about a third of the customers). workload "recent": the table's latest
    `share` of rows (by its EVENT_TIME column), moved later by the length of the stretch they
    cover: the next days of traffic, a repeat of the last ones, from the customers active then
    (text timestamps, such as the email platform's occurred_at, keep their value).
    Another `seed` samples (or suffixes) differently, so that a second batch on the same database
    is new records too, not copies of the first batch's."""
    if workload not in WORKLOADS:
        raise ValueError(f"workload {workload!r}: expected one of {WORKLOADS}")
    suffix = "-bench-new" if seed == 7 else f"-bench-new-{seed}"
    contract = load_contract()
    warehouse = connect(target)
    added = 0
    try:
        for (source, table), key in EVENT_TABLES.items():
            raw = contract[source][table]
            relation = f'"{raw.schema}"."{raw.identifier}"'
            if workload == "recent":
                moment = f'"{EVENT_TIME[source, table]}"'
                cutoff, latest = warehouse.query(
                    f"select quantile_disc({moment}, {1 - share}), max({moment}) from {relation}")[0]
                shift = f"interval {max(int((latest - cutoff).total_seconds()), 1)} second"
                rows = f"from {relation} where {moment} >= '{cutoff.isoformat()}'::timestamptz"
            else:
                shift = "interval 1 day"
                rows = f"from {relation} using sample {share * 100:.4f} percent (bernoulli, {seed})"
            columns = []
            for column in raw.columns:
                name = f'"{column.name}"'
                if column.name == key and column.data_type == "bigint":
                    columns.append(f"{name} + (select max({name}) from {relation}) as {name}")
                elif column.name == key:
                    columns.append(f"{name} || '{suffix}' as {name}")
                elif column.data_type == "timestamptz":
                    columns.append(f"{name} + {shift} as {name}")
                else:
                    columns.append(name)
            before = warehouse.query(f"select count(*) from {relation}")[0][0]
            warehouse.execute(f"insert into {relation} select {', '.join(columns)} {rows}")
            added += warehouse.query(f"select count(*) from {relation}")[0][0] - before
    finally:
        warehouse.close()
    return added


def timed_build(target: Target, label: str, name: str) -> tuple[float, dict[str, float]]:
    """Seconds of `dbt build`, and of each Python (scoring) model in it, from dbt's run results
    (kept beside the DuckDB file as run_results.<name>.json)."""
    print(f"{label} ...", file=sys.stderr, flush=True)
    artefacts = Path(target.duckdb_path).parent / "target"
    start = time.perf_counter()
    run_dbt(["build"], target=target, target_path=str(artefacts))
    seconds = time.perf_counter() - start
    run_results = (artefacts / "run_results.json").read_text()
    # Keep each build's run results beside the DuckDB file, for a node-by-node comparison.
    (artefacts.parent / f"run_results.{name}.json").write_text(run_results)
    results = json.loads(run_results)["results"]
    manifest = json.loads((artefacts / "manifest.json").read_text())["nodes"]
    scoring = {
        result["unique_id"].split(".")[-1]: round(result["execution_time"], 1)
        for result in results
        if manifest.get(result["unique_id"], {}).get("language") == "python"
    }
    slowest = sorted(results, key=lambda result: result["execution_time"], reverse=True)[:12]
    print(f"{label}: slowest nodes " + ", ".join(
        f"{result['unique_id'].split('.')[-1]} {result['execution_time']:.1f} s" for result in slowest
    ), file=sys.stderr, flush=True)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"{label}: {seconds:.1f} s, peak RSS so far {peak:,.0f} MB (Python scoring models "
          f"{sum(scoring.values()):.1f} s: {scoring})", file=sys.stderr, flush=True)
    return seconds, scoring


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--new-share", type=float, default=0.01, help="Share of event rows added before the "
                                                                      "incremental build.")
    parser.add_argument("--dir", default=None, help="Folder for the DuckDB file (default: a temporary one).")
    parser.add_argument("--events-seed", type=int, default=7,
                        help="Seed of the sample of new events; another one for each further --stage "
                             "incremental run on the same database.")
    parser.add_argument("--stage", choices=["both", "full", "incremental"], default="both",
                        help="Run both builds (default), the generation and full build only, or the "
                             "incremental build only on the database a full stage left in --dir.")
    parser.add_argument("--workload", choices=(*WORKLOADS, "both"), default="both",
                        help="New events: rows drawn over the whole history, one day later (spread: late "
                             "events touching a third of the customers), the latest rows again as the "
                             "next days of traffic (recent), or a spread batch then a recent one, each "
                             "built and timed (both, the default).")
    parser.add_argument("--keep-raw", default=None, help="Copy the generated database (raw data only) to this "
                                                         "file before the full build.")
    parser.add_argument("--raw-from", default=None, help="Start from a database --keep-raw copied instead of "
                                                         "generating.")
    args = parser.parse_args(argv)
    if args.stage == "incremental" and not args.dir:
        parser.error("--stage incremental needs --dir: the folder of a database a --stage full run built")
    if args.stage == "incremental" and (args.keep_raw or args.raw_from):
        parser.error("--keep-raw and --raw-from belong to the generation: use them with --stage full or both")
    if args.keep_raw and args.raw_from:
        parser.error("--keep-raw with --raw-from: the copy would be the one it started from; give one of them")
    folder = Path(args.dir or tempfile.mkdtemp(prefix="cdp-bench-build-"))
    folder.mkdir(parents=True, exist_ok=True)
    target = dataclasses.replace(resolve_target("dev"), duckdb_path=folder / "cdp.duckdb")
    full_record = folder / "full_build.json"
    if args.stage == "incremental":
        if not full_record.exists():
            parser.error(f"--dir {folder}: no full_build.json there; run --stage full first")
        recorded = json.loads(full_record.read_text())
        full, scoring, raw_rows = recorded["seconds"], recorded["scoring"], recorded["raw_rows"]
    else:
        if args.raw_from:
            raw = Path(args.raw_from)
            if not raw.with_suffix(".json").exists():
                parser.error(f"--raw-from {raw}: no {raw.with_suffix('.json').name} beside it; make it with --keep-raw")
            kept = json.loads(raw.with_suffix(".json").read_text())
            if kept["customers"] != args.customers:
                parser.error(f"--raw-from {raw}: a world of {kept['customers']:,} customers, not the "
                             f"--customers {args.customers:,} asked for")
            shutil.copyfile(raw, target.duckdb_path)
            raw_rows = kept["raw_rows"]
        else:
            summary = generate(customers=args.customers, seed=args.seed, target=target)
            raw_rows = sum(summary.rows.values())
            if args.keep_raw:
                shutil.copyfile(target.duckdb_path, args.keep_raw)
                Path(args.keep_raw).with_suffix(".json").write_text(json.dumps({
                    "customers": args.customers, "seed": args.seed, "raw_rows": raw_rows}))
        full, scoring = timed_build(target, f"full build of {args.customers:,} customers ({raw_rows:,} raw rows)",
                                     "full")
        full_record.write_text(json.dumps({
            "seconds": full, "scoring": scoring, "raw_rows": raw_rows,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)}))
        if args.stage == "full":
            print(json.dumps({"customers": args.customers, "raw_rows": raw_rows, "full_build_seconds": round(full, 1),
                              "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
                              "duckdb_file": str(target.duckdb_path)}))
            return 0
    # "both": the spread batch, then the recent one (another seed: other keys) on the same database
    workloads = WORKLOADS if args.workload == "both" else (args.workload,)
    batches = []
    for number, workload in enumerate(workloads):
        seed = args.events_seed + 1000 * number
        added = add_new_events(target, args.new_share, seed=seed, workload=workload)
        incremental, _ = timed_build(target, f"incremental build after {added:,} new event rows ({workload})",
                                     f"incremental-{workload}")
        batches.append({"workload": workload, "events_seed": seed, "new_event_rows": added,
                        "incremental_build_seconds": round(incremental, 1),
                        "incremental_over_full": round(incremental / full, 3)})
    marts = relation_schema(target, "marts")
    warehouse = connect(target, read_only=True)
    try:
        scored = warehouse.query(f"select count(distinct customer_id) from {marts}.customer_scores")[0][0]
        customers = warehouse.query(f"select count(*) from {marts}.customers")[0][0]
    finally:
        warehouse.close()
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({
        "customers": args.customers, "raw_rows": raw_rows, "full_build_seconds": round(full, 1),
        "incremental_batches": batches, "peak_rss_mb": round(peak),
        **({"full_build_peak_rss_mb": recorded["peak_rss_mb"]} if args.stage == "incremental" else {}),
        "resolved_customers": customers, "scored_customers": scored,
        "scoring_seconds": round(sum(scoring.values()), 1), "scoring_models_seconds": scoring,
        "duckdb_file": str(target.duckdb_path),
    }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
