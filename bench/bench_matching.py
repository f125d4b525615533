"""Benchmark cdp's probabilistic matcher against Splink on generated person records.

    python bench/bench_matching.py --customers 265000 [--seed 42] [--threshold 0.99]
        [--matchers ours,splink] [--target dev|pg] [--keep DIR] [--records FILE]

Generates a world with `cdp.generate.generate` into a temporary DuckDB file and builds canonical
person records from its raw tables, labelled with raw_truth.record_persons: CRM contacts, shop
customers, shop orders (shipping name and address), support tickets (requester name split into
first and last) and Segment identifies with traits. Values stay raw: cleaning is the matchers'
job. Each stage (generate, ours, splink) runs in a child process, so each peak RSS is its own;
both matchers see the same records and are scored by the same function. Prints one JSON line:
records, both F1s, both seconds (input to clusters), the ratio ours/splink and peak RSS.
About 3.8 person records per customer: --customers 265000 gives about a million records.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MATCHERS = ("ours", "splink")

# One select per source table: (source.table, record key, first, last, birth date, address, city, postcode,
# phone, email, loaded-at column). The copy loaded last wins when a key was delivered twice.
_TICKET_NAME = "trim(requester_name)"
SOURCES: list[tuple[str, str, tuple[str, ...], str]] = [
    ("crm.contacts", "hs_object_id",
     ("firstname", "lastname", "date_of_birth", "address", "city", "zip", "coalesce(mobilephone, phone)", "email"),
     "_loaded_at"),
    ("shop.customers", "id",
     ("first_name", "last_name", "null", "default_address_address1", "default_address_city", "default_address_zip",
      "phone", "email"),
     "_fivetran_synced"),
    ("shop.orders", "id",
     ("shipping_address_first_name", "shipping_address_last_name", "null", "shipping_address_address1",
      "shipping_address_city", "shipping_address_zip", "phone", "email"),
     "_fivetran_synced"),
    ("support.tickets", "id",
     (f"split_part({_TICKET_NAME}, ' ', 1)",
      f"nullif(trim(substr({_TICKET_NAME}, length(split_part({_TICKET_NAME}, ' ', 1)) + 1)), '')",
      "null", "null", "null", "null", "requester_phone", "requester_email"),
     "_fivetran_synced"),
    ("segment.identifies", "id", ("first_name", "last_name", "null", "null", "null", "null", "phone", "email"),
     "received_at"),
]
CANONICAL = ("first_name", "last_name", "birth_date", "address_line", "city", "postcode", "phone", "email")


def person_records_sql() -> str:
    """Canonical, labelled person records from the raw tables (records with no attribute left out)."""
    selects = []
    for source_table, key, values, loaded_at in SOURCES:
        source, table = source_table.split(".")
        columns = ", ".join(
            f"cast({value} as varchar) as {name}" for value, name in zip(values, CANONICAL, strict=True))
        selects.append(
            f"select '{source}' as source_name, '{table}' as table_name, cast({key} as varchar) as record_key, "
            f"{columns} from raw_{source}.{table} where {key} is not null "
            f"qualify row_number() over (partition by {key} order by {loaded_at} desc nulls last) = 1"
        )
    unioned = "\nunion all\n".join(selects)
    any_value = " or ".join(f"{name} is not null" for name in CANONICAL)
    return f"""
        with records as ({unioned}),
        truth as (
            select source_name, table_name, record_id, min(person_id) as person_id
            from raw_truth.record_persons group by all
        )
        select
            records.source_name || '.' || records.table_name || ':' || records.record_key as record_id,
            cast(truth.person_id as varchar) as true_entity_id,
            {", ".join(f"records.{name}" for name in CANONICAL)}
        from records
        inner join truth
            on records.source_name = truth.source_name
            and records.table_name = truth.table_name
            and records.record_key = truth.record_id
        where {any_value}
        order by record_id
    """


# ---------------------------------------------------------------------------------------------
# Stages (each runs in its own child process)
# ---------------------------------------------------------------------------------------------


def stage_generate(customers: int, seed: int, work: Path) -> dict[str, Any]:
    import duckdb
    import pyarrow.parquet as pq

    from cdp.generate import generate
    from cdp.warehouse import resolve_target

    target = dataclasses.replace(resolve_target("dev"), duckdb_path=work / "generated.duckdb")
    summary = generate(customers=customers, seed=seed, target=target, progress=False)
    con = duckdb.connect(str(target.duckdb_path), read_only=True)
    try:
        records = con.sql(person_records_sql()).to_arrow_table()
    finally:
        con.close()
    pq.write_table(records, work / "records.parquet")
    target.duckdb_path.unlink()
    return {"raw_rows": summary.total_rows, "records": records.num_rows}


def stage_match(matcher: str, work: Path, threshold: float, target_name: str) -> dict[str, Any]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    records = pq.read_table(work / "records.parquet").drop_columns(["true_entity_id"])
    columns = [name for name in CANONICAL if name in records.column_names]
    if matcher == "ours":
        from cdp.matching_runner import parse_matching_project, run_probabilistic_matching
        from cdp.warehouse import resolve_target

        target = resolve_target(target_name)
        if target.type == "duckdb":
            target = dataclasses.replace(target, duckdb_path=work / "matching.duckdb")
        # The project is parsed once, as a deployment does; that time is reported, not counted.
        parse_seconds = parse_matching_project(target, columns, threshold)
        started = time.monotonic()
        result = run_probabilistic_matching(target, records, threshold=threshold)
        seconds = time.monotonic() - started
        clusters, extra = result.clusters, {"build_seconds": round(result.seconds, 3),
                                            "parse_seconds": round(parse_seconds, 3),
                                            "candidate_pairs": result.candidate_pairs,
                                            "matched_pairs": result.matched_pairs}
    else:
        from cdp.matching_eval import default_blocking_rules
        from cdp.splink_runner import run_splink

        outcome = run_splink(records, columns, default_blocking_rules(), threshold)
        seconds, clusters = outcome["seconds"], outcome["clusters"]
        extra = {"matched_pairs": outcome["matched_pairs"]}
    pq.write_table(pa.table({"record_id": list(clusters.keys()), "cluster_id": list(clusters.values())}),
                   work / f"clusters_{matcher}.parquet")
    return {"seconds": round(seconds, 3), **extra}


def _child_main(args: argparse.Namespace) -> int:
    work = Path(args.work)
    if args.stage == "generate":
        out = stage_generate(args.customers, args.seed, work)
    else:
        out = stage_match(args.stage, work, args.threshold, args.target)
    print(json.dumps(out))
    return 0


# ---------------------------------------------------------------------------------------------
# Parent: run the stages, score, report
# ---------------------------------------------------------------------------------------------


def run_stage(stage: str, args: argparse.Namespace, work: Path) -> tuple[dict[str, Any], float, float]:
    """Run one stage in a child process: its JSON output, wall seconds and peak RSS (MB)."""
    command = [sys.executable, str(Path(__file__).resolve()), "--stage", stage, "--work", str(work),
               "--customers", str(args.customers), "--seed", str(args.seed),
               "--threshold", str(args.threshold), "--target", args.target]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    started = time.monotonic()
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit(f"bench_matching: stage {stage} failed with exit code {proc.returncode}")
    lines = output.strip().splitlines()
    return json.loads(lines[-1]), wall, usage.ru_maxrss / 1024


def score_stage(matcher: str, work: Path, records: Any) -> dict[str, Any]:
    import pyarrow.parquet as pq

    from cdp.matching_eval import score_clusters

    table = pq.read_table(work / f"clusters_{matcher}.parquet")
    clusters = dict(zip(table["record_id"].to_pylist(), table["cluster_id"].to_pylist(), strict=True))
    scores = score_clusters(records, clusters)
    return {"precision": scores.precision, "recall": scores.recall, "f1": scores.f1,
            "clusters": scores.clusters, "predicted_pairs": scores.predicted_pairs,
            "correct_pairs": scores.correct_pairs}


def bench(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    import pyarrow.parquet as pq

    from cdp.matching_eval import pairwise_scores

    matchers = [name.strip() for name in args.matchers.split(",") if name.strip()]
    unknown = [name for name in matchers if name not in MATCHERS]
    if unknown:
        raise SystemExit(f"bench_matching: --matchers: unknown {', '.join(unknown)}; choose from {', '.join(MATCHERS)}")
    generate_wall: float | None = None
    generate_rss: float | None = None
    if args.records is None:
        generated, generate_wall, generate_rss = run_stage("generate", args, work)
        print(f"generated {generated['records']:,} person records in {generate_wall:.0f} s", file=sys.stderr)
    elif args.records.resolve() != (work / "records.parquet").resolve():
        shutil.copyfile(args.records, work / "records.parquet")
    records = pq.read_table(work / "records.parquet", columns=["record_id", "true_entity_id"])
    truth = pairwise_scores(records["true_entity_id"], records["true_entity_id"])
    report: dict[str, Any] = {
        "customers": args.customers, "seed": args.seed, "records": records.num_rows, "entities": truth.entities,
        "true_pairs": truth.true_pairs, "threshold": args.threshold,
        "records_file": str(args.records) if args.records else None,
        "generate_seconds": None if generate_wall is None else round(generate_wall, 1),
        "generate_peak_rss_mb": None if generate_rss is None else round(generate_rss),
    }
    for matcher in matchers:
        out, wall, rss = run_stage(matcher, args, work)
        report[matcher] = {**score_stage(matcher, work, records), **out, "wall_seconds": round(wall, 1),
                           "peak_rss_mb": round(rss)}
        print(f"{matcher}: F1 {report[matcher]['f1']:.4f} in {out['seconds']:.1f} s, "
              f"peak RSS {rss:,.0f} MB", file=sys.stderr)
    for matcher in matchers:
        report[f"f1_{matcher}"] = report[matcher]["f1"]
        report[f"seconds_{matcher}"] = report[matcher]["seconds"]
    if "ours" in report and "splink" in report and report["splink"]["seconds"]:
        report["seconds_ratio_ours_over_splink"] = round(report["ours"]["seconds"] / report["splink"]["seconds"], 3)
    report["peak_rss_mb"] = max(report[m]["peak_rss_mb"] for m in matchers) if matchers else None
    return report


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--customers", type=int, required=True)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--threshold", type=float, default=None, help="default: the project's matching threshold")
    parser.add_argument("--matchers", default="ours,splink", help="comma-separated: ours, splink")
    parser.add_argument("--target", choices=["dev", "pg"], default="dev",
                        help="where ours runs: dev = a temporary DuckDB file, pg = $CDP_PG_* (database as set)")
    parser.add_argument("--keep", type=Path, default=None, help="keep records and clusters in this directory")
    parser.add_argument("--records", type=Path, default=None,
                        help="use this parquet of labelled person records (e.g. a --keep run's) instead of generating")
    parser.add_argument("--stage", choices=["generate", *MATCHERS], help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.threshold is None:
        from cdp.matching_eval import default_threshold

        args.threshold = default_threshold()
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.stage:
        return _child_main(args)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        report = bench(args, args.keep)
    else:
        with tempfile.TemporaryDirectory(prefix="cdp-bench-matching-") as tmp:
            report = bench(args, Path(tmp))
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
