"""Benchmark `cdp.generate.generate` into a temporary DuckDB file.

    python bench/bench_generate.py --customers 100000 [--seed 42] [--keep PATH]

Runs the generator in a child process (so peak RSS is the child's alone) and prints one JSON
line: customers, total rows, seconds, rows_per_second, peak_rss_mb.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_CHILD = """
import json, sys
from cdp.generate import generate
summary = generate(int(sys.argv[1]), int(sys.argv[2]), "dev", progress=True)
print(json.dumps({"rows": summary.total_rows, "truth_rows": sum(summary.truth_rows.values()),
                  "seconds": summary.seconds, "per_table": summary.rows}))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, required=True)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", type=Path, default=None, help="write the DuckDB file here and keep it")
    parser.add_argument("--tables", action="store_true", help="also print rows per table (to stderr)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="cdp-bench-") as tmp:
        path = args.keep or Path(tmp) / "bench.duckdb"
        env = dict(os.environ, CDP_DUCKDB_PATH=str(path), PYTHONPATH=str(ROOT))
        started = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD, str(args.customers), str(args.seed)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        wall = time.monotonic() - started
        if proc.returncode != 0:
            print(f"bench_generate: generator failed with exit code {proc.returncode}", file=sys.stderr)
            return proc.returncode
        child = json.loads(proc.stdout.strip().splitlines()[-1])
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if args.tables:
        for table, rows in sorted(child["per_table"].items()):
            print(f"{table:32} {rows:>12,}", file=sys.stderr)
    print(
        json.dumps(
            {
                "customers": args.customers,
                "seed": args.seed,
                "rows": child["rows"],
                "truth_rows": child["truth_rows"],
                "seconds": round(wall, 1),
                "rows_per_second": round(child["rows"] / wall),
                "peak_rss_mb": round(peak_kb / 1024),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
