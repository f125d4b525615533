"""The Postgres Jaro-Winkler function gives DuckDB's numbers (property test)."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cdp.warehouse import Target, connect

# A small alphabet makes matches, transpositions and shared prefixes common.
words = st.text(alphabet="abcdeéñ -'", min_size=0, max_size=12)
pairs = st.lists(st.tuples(words, words), min_size=1, max_size=60)

KNOWN = [("martha", "marhta"), ("dwayne", "duane"), ("dixon", "dicksonx"), ("crate", "trace"),
         ("kate", "katherine"), ("ab", "ba"), ("", ""), ("a", ""), ("jon", "john")]


def duckdb_scores(rows: list[tuple[str, str]]) -> list[float]:
    con = duckdb.connect()
    return [con.execute("select jaro_winkler_similarity(?, ?)", list(row)).fetchone()[0] for row in rows]


@pytest.mark.postgres
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=pairs)
def test_postgres_jaro_winkler_matches_duckdb(pg_built: Target, rows: list[tuple[str, str]]):
    warehouse = connect(pg_built)
    try:
        rows = KNOWN + rows
        got = [warehouse.query(f"select {pg_built.schema}.cdp_jaro_winkler(%s, %s)".replace("%s", "?"), list(r))[0][0]
               for r in rows]
    finally:
        warehouse.close()
    expected = duckdb_scores(rows)
    for row, a, b in zip(rows, got, expected, strict=True):
        assert a == pytest.approx(b, abs=1e-12), row
