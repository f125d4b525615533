"""The SQL connected components are exact (property tests against networkx) and need a
number of rounds that grows with the log of a chain's length, on DuckDB and Postgres."""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
import random

import networkx as nx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from cdp.identity_components import components_in_warehouse, relabel_in_warehouse
from cdp.warehouse import Target, resolve_target


@st.composite
def graph(draw) -> list[tuple[int, int]]:
    """One graph of a random kind, on node ids 0..n-1 in random order."""
    kind = draw(st.sampled_from(["random", "chain", "star", "clique", "forest"]))
    size = draw(st.integers(min_value=1, max_value={"random": 40, "chain": 150, "star": 80,
                                                    "clique": 10, "forest": 60}[kind]))
    ids = draw(st.permutations(range(size)))
    if kind == "random":
        count = draw(st.integers(min_value=0, max_value=size * 2))
        edges = [(draw(st.sampled_from(ids)), draw(st.sampled_from(ids))) for _ in range(count)]
    elif kind == "chain":
        edges = list(itertools.pairwise(ids))
    elif kind == "star":
        edges = [(ids[0], leaf) for leaf in ids[1:]]
    elif kind == "clique":
        edges = [(a, b) for i, a in enumerate(ids) for b in ids[i + 1:]]
    else:
        edges = [(ids[i], ids[draw(st.integers(min_value=0, max_value=i - 1))]) for i in range(1, size)]
    return edges + [(node, node) for node in ids]  # every node present, isolated ones too


def combine(graphs: list[list[tuple[int, int]]]) -> list[tuple[int, int]]:
    """Disjoint union: shift each graph's ids past the previous graph's."""
    combined, offset = [], 0
    for edges in graphs:
        top = max(max(a, b) for a, b in edges) + 1
        combined += [(a + offset, b + offset) for a, b in edges]
        offset += top
    return combined


def expected_components(edges: list[tuple[int, int]]) -> dict[int, int]:
    g = nx.Graph()
    g.add_edges_from(edges)
    return {node: min(component) for component in nx.connected_components(g) for node in component}


# Each example is a dbt invocation (seconds): in CI a failing example is reported as drawn,
# with its reproduce blob, instead of shrinking it for many minutes; locally it is shrunk.
DBT_PHASES = ((Phase.explicit, Phase.reuse, Phase.generate) if os.environ.get("CI") == "true"
              else tuple(Phase))


def dbt_examples(count: int) -> settings:
    return settings(max_examples=count, deadline=None, phases=DBT_PHASES, print_blob=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.data_too_large])


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Target:
    if request.param == "postgres":
        request.applymarker(pytest.mark.postgres)
        return request.getfixturevalue("pg_target")
    return dataclasses.replace(resolve_target("dev"),
                               duckdb_path=tmp_path_factory.mktemp("components") / "cc.duckdb")


@dbt_examples(6)
@given(graphs=st.lists(graph(), min_size=5, max_size=25))
def test_components_equal_networkx(engine: Target, graphs: list[list[tuple[int, int]]]):
    edges = combine(graphs)
    labels, _rounds = components_in_warehouse(engine, edges)
    assert labels == expected_components(edges)


@pytest.mark.parametrize("order", ["ascending", "descending", "shuffled"])
def test_long_chain_needs_logarithmic_rounds(engine: Target, order: str):
    # 100,000 nodes on DuckDB; the same SQL takes the same rounds on Postgres, where a shorter
    # chain keeps the suite quick
    n = 100_000 if engine.type == "duckdb" else 30_000
    ids = list(range(n))
    if order == "descending":
        ids.reverse()
    elif order == "shuffled":
        random.Random(5).shuffle(ids)
    edges = list(itertools.pairwise(ids))
    labels, rounds = components_in_warehouse(engine, edges)
    assert len(labels) == n and set(labels.values()) == {0}
    assert rounds <= 2 * math.ceil(math.log2(n)), rounds


@st.composite
def changed_graph(draw) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """A graph and the same graph after a build's changes: edges removed (components split
    or shrink, nodes vanish), edges added within and between components and to new nodes."""
    before = combine(draw(st.lists(graph(), min_size=3, max_size=12)))
    nodes = sorted({n for edge in before for n in edge})
    kept = [edge for edge in before if not draw(st.booleans()) or draw(st.integers(0, 9)) > 0]
    fresh = list(range(nodes[-1] + 1, nodes[-1] + 1 + draw(st.integers(0, 5))))
    pool = nodes + fresh
    added = [(draw(st.sampled_from(pool)), draw(st.sampled_from(pool))) for _ in range(draw(st.integers(0, 8)))]
    return before, kept + added + [(n, n) for n in fresh if draw(st.booleans())]


@dbt_examples(4)
@given(change=changed_graph())
def test_relabelling_the_changed_components_equals_labelling_everything(
    engine: Target, change: tuple[list[tuple[int, int]], list[tuple[int, int]]],
):
    before, after = change
    # max_share 1: the changed part is labelled again however large it is
    labels, relabelled = relabel_in_warehouse(engine, before, after, max_share=1.0)
    assert labels == expected_components(after)
    assert relabelled is not None


def test_relabelling_touches_only_the_changed_components(engine: Target):
    # 300 pairs; one pair gains an edge to a new node, two pairs are joined, one loses its edge
    before = [(2 * i, 2 * i + 1) for i in range(300)]
    after = [edge for edge in before if edge != (20, 21)] + [(0, 1000), (4, 6), (20, 20), (21, 21)]
    labels, relabelled = relabel_in_warehouse(engine, before, after)
    assert labels == expected_components(after)
    # pairs (0, 1) + node 1000, (4, 5) + (6, 7), and the split 20 / 21: 9 nodes, not 601
    assert relabelled == 9


def test_new_nodes_count_in_the_share_labelled_again(engine: Target):
    # a star whose every node is touched, plus as many new nodes: the region is twice the
    # previous graph yet all of the current one, so max_share 1 still labels only the region
    before = [(0, leaf) for leaf in range(1, 20)]
    after = [(leaf, 0) for leaf in range(2, 20)] + [(1, 1)] + [(node, node - 20) for node in range(20, 40)]
    labels, relabelled = relabel_in_warehouse(engine, before, after, max_share=1.0)
    assert labels == expected_components(after)
    assert relabelled == 40


def test_relabelling_a_large_change_labels_everything(engine: Target):
    before = [(2 * i, 2 * i + 1) for i in range(50)]
    after = [(2 * i + 1, 2 * i + 2) for i in range(50)]  # every pair rewired: all nodes changed
    labels, relabelled = relabel_in_warehouse(engine, before, after)
    assert labels == expected_components(after)
    assert relabelled is None
