"""Run the SQL connected-components macro on an edge list outside a model (tests, benchmarks)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

import pyarrow as pa

from cdp.dbt_runner import run_dbt
from cdp.warehouse import Target, connect

_ROUNDS = re.compile(r"converged after (\d+) rounds")


def components_in_warehouse(
    target: Target, edges: Iterable[tuple[int, int]] | pa.Table, schema: str = "cdp_components_work",
    name: str = "edges",
) -> tuple[dict[int, int], int]:
    """Label the components of `edges` with the project's SQL; returns ({node: component}, rounds)."""
    table = edges if isinstance(edges, pa.Table) else _edge_table(edges)
    warehouse = connect(target)
    try:
        warehouse.replace_table(schema, name, table)
    finally:
        warehouse.close()
    result = f"{schema}.{name}_components"
    completed = run_dbt(
        ["run-operation", "label_components_of", "--args", json.dumps({"edges": f"{schema}.{name}", "result": result})],
        target=target, capture=True,
    )
    match = _ROUNDS.search(completed.stdout)
    if match is None:
        raise RuntimeError(f"no round count in dbt output:\n{completed.stdout[-2000:]}")
    warehouse = connect(target)
    try:
        labels = {int(n): int(c) for n, c in warehouse.query(f"select node_id, component_id from {result}")}
    finally:
        warehouse.close()
    return labels, int(match.group(1))


_RELABELLED = re.compile(r"converged after (\d+) rounds, (\d+|all) nodes labelled again")


def relabel_in_warehouse(
    target: Target, previous_edges: Iterable[tuple[int, int]], edges: Iterable[tuple[int, int]],
    schema: str = "cdp_components_work", max_share: float | None = None,
) -> tuple[dict[int, int], int | None]:
    """Label `previous_edges` in full, then `edges` again where they differ (the
    relabel_changed path of the connected_components materialization); returns
    ({node: component}, nodes labelled again, or None when every node was). max_share:
    above which share of the nodes labelled again everything is (default: the project's var)."""
    warehouse = connect(target)
    try:
        warehouse.replace_table(schema, "previous_edges", _edge_table(previous_edges))
        warehouse.replace_table(schema, "edges", _edge_table(edges))
    finally:
        warehouse.close()
    result = f"{schema}.relabelled"
    args = {"previous_edges": f"{schema}.previous_edges", "edges": f"{schema}.edges", "result": result,
            "max_share": max_share}
    completed = run_dbt(["run-operation", "relabel_components_of", "--args", json.dumps(args)],
                        target=target, capture=True)
    match = _RELABELLED.search(completed.stdout)
    if match is None:
        raise RuntimeError(f"no relabelling count in dbt output:\n{completed.stdout[-2000:]}")
    warehouse = connect(target)
    try:
        labels = {int(n): int(c) for n, c in warehouse.query(f"select node_id, component_id from {result}")}
    finally:
        warehouse.close()
    return labels, None if match.group(2) == "all" else int(match.group(2))


def _edge_table(edges: Iterable[tuple[int, int]]) -> pa.Table:
    pairs = list(edges)
    return pa.table({
        "node_a": pa.array([a for a, _ in pairs], pa.int64()),
        "node_b": pa.array([b for _, b in pairs], pa.int64()),
    })
