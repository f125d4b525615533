"""Benchmark the SQL connected components (the identity graph's labelling) on DuckDB.

    python bench/bench_components.py --edges 10000000 [--seed 7]

Builds an identity-shaped graph of the given number of edges (mostly small clusters of a few
identifiers, plus long chains, stars and a few big clusters, with node ids in random order),
writes it to a temporary DuckDB file, runs `dbt run-operation label_components_of` on it in a
child process and prints one JSON line: edges, nodes, components, rounds, seconds of the
labelling (from dbt's own log) and of the whole child, and the child's peak RSS. The result is
checked: every edge's ends share a component label and each label is its component's minimum.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cdp.dbt_runner import run_dbt  # noqa: E402
from cdp.warehouse import connect, resolve_target  # noqa: E402


def identity_graph(edges: int, seed: int) -> pa.Table:
    """Clusters of 2-12 identifiers joined as stars (a record's anchor and its identifiers),
    chained pairs of clusters, 1% of edges in 100,000-node chains and a few 50,000-node stars."""
    rng = np.random.default_rng(seed)
    chain_edges = edges // 100
    star_edges = edges // 200
    star_size = 50_000
    cluster_edges = edges - chain_edges - star_edges
    sizes = rng.integers(2, 13, size=cluster_edges // 4)
    sizes = sizes[np.cumsum(sizes - 1) <= cluster_edges]
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    anchor = np.repeat(starts, sizes - 1)
    member = np.concatenate([np.arange(s + 1, s + n) for s, n in zip(starts, sizes, strict=True)])
    nodes = int(sizes.sum())
    # Chains of 100,000 nodes.
    chain_nodes = np.arange(nodes, nodes + chain_edges + chain_edges // 100_000 + 1)
    chain_a = chain_nodes[:-1]
    chain_b = chain_nodes[1:]
    keep = (chain_a - nodes + 1) % 100_001 != 0
    nodes += len(chain_nodes)
    # Stars of 50,000 leaves (a kiosk that got through).
    star_count = max(1, star_edges // star_size)
    star_centers = np.repeat(np.arange(nodes, nodes + star_count), star_edges // star_count)
    star_leaves = np.arange(nodes + star_count, nodes + star_count + len(star_centers))
    nodes += star_count + len(star_centers)
    a = np.concatenate([anchor, chain_a[keep], star_centers])
    b = np.concatenate([member, chain_b[keep], star_leaves])
    permutation = rng.permutation(nodes)
    return pa.table({"node_a": pa.array(permutation[a], pa.int64()), "node_b": pa.array(permutation[b], pa.int64())})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edges", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    graph = identity_graph(args.edges, args.seed)
    with tempfile.TemporaryDirectory(prefix="cdp-bench-cc-") as tmp:
        target = dataclasses.replace(resolve_target("dev"), duckdb_path=Path(tmp) / "cc.duckdb")
        warehouse = connect(target)
        try:
            warehouse.replace_table("bench", "edges", graph)
        finally:
            warehouse.close()
        started = time.monotonic()
        completed = run_dbt(["run-operation", "label_components_of", "--args",
                             json.dumps({"edges": "bench.edges", "result": "bench.components"})],
                            target=target, capture=True)
        child_seconds = time.monotonic() - started
        found = re.search(r"converged after (\d+) rounds in ([0-9.]+) seconds", completed.stdout)
        rounds, labelling = int(found.group(1)), float(found.group(2))
        warehouse = connect(target)
        try:
            bad_edges = warehouse.query(
                "select count(*) from bench.edges e join bench.components a on e.node_a = a.node_id "
                "join bench.components b on e.node_b = b.node_id where a.component_id <> b.component_id")[0][0]
            not_minimum = warehouse.query(
                "select count(*) from (select component_id, min(node_id) as m from bench.components "
                "group by component_id) as c where c.m <> c.component_id")[0][0]
            nodes, components = warehouse.query(
                "select count(*), count(distinct component_id) from bench.components")[0]
        finally:
            warehouse.close()
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({
        "edges": graph.num_rows, "nodes": nodes, "components": components, "rounds": rounds,
        "labelling_seconds": labelling, "dbt_process_seconds": round(child_seconds, 1),
        "peak_rss_mb": round(peak), "correct": bad_edges == 0 and not_minimum == 0,
    }))
    return 0 if bad_edges == 0 and not_minimum == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
