"""The uniqueness tests find exactly the repeated values, on both warehouses.

On DuckDB the built-in `unique` test is replaced by one that finds repeated hashes of the values
first, by sorting them (macros/testing/unique_rows.sql); `unique_combination_of_columns` does the
same. Both must return what a plain group-by returns: every repeated value (nulls apart for
`unique`), how many rows carry it, and nothing else.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from cdp.dbt_runner import run_dbt
from cdp.warehouse import Target, resolve_target
from tests.python.conftest import throwaway_pg_target

ROWS = ("(select * from (values (1, 'x'), (1, 'y'), (2, 'z'), (null, 'n'), (null, 'n'), (3, 'a'), (3, 'a'),"
        " (4, null), (4, null), (5, 'b')) as v(a, b)) as tested_rows")
QUERY = f"""
select 'unique' as test, cast(unique_field as varchar) as a, cast(null as varchar) as b, n_records
from ({{{{ test_unique("{ROWS}", "a") }}}}) as unique_test
union all
select 'combination', cast(a as varchar), b, n_records
from ({{{{ test_unique_combination_of_columns("{ROWS}", ["a", "b"]) }}}}) as combination_test
order by 1, 2, 3
"""
EXPECTED = [
    {"test": "combination", "a": "3", "b": "a", "n_records": 2},
    {"test": "combination", "a": "4", "b": None, "n_records": 2},
    {"test": "combination", "a": None, "b": "n", "n_records": 2},
    {"test": "unique", "a": "1", "b": None, "n_records": 2},
    {"test": "unique", "a": "3", "b": None, "n_records": 2},
    {"test": "unique", "a": "4", "b": None, "n_records": 2},
]


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    if request.param == "duckdb":
        yield dataclasses.replace(resolve_target("dev"), duckdb_path=tmp_path / "cdp.duckdb")
    else:
        with throwaway_pg_target("cdp_generic") as pg:
            yield pg


def show(target: Target, sql: str) -> tuple[list[dict], str]:
    """Rows of `dbt show --inline sql`, and dbt's debug log (which holds the SQL it ran)."""
    completed = run_dbt(["--debug", "show", "--inline", sql, "--limit", "-1", "--output", "json",
                         "--log-format", "json"], target=target, target_path=f"target/generic-{target.type}",
                        capture=True)
    rows = None
    for line in completed.stdout.splitlines():
        data = json.loads(line).get("data", {}) if line.startswith("{") else {}
        if "preview" in data:
            rows = json.loads(data["preview"]) if isinstance(data["preview"], str) else data["preview"]
    assert rows is not None, completed.stdout[-2000:]
    return rows, completed.stdout


def test_uniqueness_tests_return_exactly_the_repeated_values(target: Target):
    rows, log = show(target, QUERY)
    assert rows == EXPECTED
    if target.type == "duckdb":  # the hash-first form ran, not dbt's own
        assert "hash(a)" in log and "hash(a, b)" in log
