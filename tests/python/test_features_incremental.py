"""customer_features and int_scoring__features_current are built incrementally: a build computes
again only the customers whose feature inputs changed or whose events crossed a window edge as
the moment moved, and moves every other row to the new moment. The rows must be those a full
refresh gives, row by row, as the moment moves forward (to another time of day) and back, on
both warehouses; and a row nothing touched must really be kept, not computed again, unless the
features SQL itself changed.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator

import pytest

from cdp.dbt_runner import run_dbt
from cdp.generate import generate
from cdp.warehouse import Target, connect, relation_schema, resolve_target
from tests.python.conftest import throwaway_pg_target
from tests.python.test_incremental import assert_same_rows, comparable_rows

FIRST = "2026-10-01 20:00:00"
# 17 days later and earlier in the day (day counts are calendar-day differences), then back
MOMENTS = ["2026-10-18 06:30:00", "2026-09-20 12:00:00"]
FEATURES = ["customer_features", "int_scoring__features_current"]
SELECTION = ["int_scoring__cutoffs", "int_features__input_digests", *FEATURES]


def run(target: Target, as_of: str, *flags: str) -> None:
    run_dbt(["run", "--select", *SELECTION, "--vars", json.dumps({"features_as_of": as_of}), *flags],
            target=target, target_path=f"target/features-incremental-{target.type}")


def snapshot(target: Target) -> dict[str, list[tuple]]:
    schemas = {"customer_features": relation_schema(target, "marts"),
               "int_scoring__features_current": relation_schema(target, "intermediate")}
    warehouse = connect(target)
    try:
        return {name: comparable_rows(warehouse, f"select * from {schemas[name]}.{name}") for name in FEATURES}
    finally:
        warehouse.close()


def scenario(target: Target) -> dict:
    generate(customers=400, seed=23, target=target, progress=False)
    # the features and everything they read (their tests run in the suite's built worlds)
    run_dbt(["build", "--select", *[f"+{model}" for model in SELECTION],
             "--resource-type", "seed", "--resource-type", "model",
             "--vars", json.dumps({"features_as_of": FIRST, "audiences_run_at": FIRST})],
            target=target, target_path=f"target/features-incremental-{target.type}")
    outcome = {"target": target}
    for as_of in MOMENTS:
        run(target, as_of)
        incremental = snapshot(target)
        run(target, as_of, "--full-refresh")
        outcome[as_of] = {"incremental": incremental, "full_refresh": snapshot(target)}
    # a row no change touches is kept, not computed again: mark one, build at the same moment
    outcome["sentinel_kept"] = sentinel_survives(target, MOMENTS[-1])
    # ... unless the features SQL changed (here: support switched off, so no ticket features)
    outcome["sentinel_kept_after_sql_change"] = sentinel_survives(target, MOMENTS[-1], support_enabled=False)
    return outcome


def sentinel_survives(target: Target, as_of: str, **dbt_vars: object) -> bool:
    """Mark a customer's row (one without tickets), build at `as_of`: is the mark still there?"""
    marts = relation_schema(target, "marts")
    warehouse = connect(target)
    try:
        customer_id, = warehouse.query(f"select min(customer_id) from {marts}.customer_features where tickets = 0")[0]
        warehouse.execute(f"update {marts}.customer_features set favourite_channel = 'sentinel' "
                          f"where customer_id = '{customer_id}'")
    finally:
        warehouse.close()
    run_dbt(["run", "--select", *SELECTION, "--vars", json.dumps({"features_as_of": as_of, **dbt_vars})],
            target=target, target_path=f"target/features-incremental-{target.type}")
    return any(row[0] == customer_id and "sentinel" in row for row in snapshot(target)["customer_features"])


@pytest.fixture(scope="module")
def duckdb_scenario(tmp_path_factory: pytest.TempPathFactory) -> dict:
    target = dataclasses.replace(resolve_target("dev"),
                                 duckdb_path=tmp_path_factory.mktemp("features") / "cdp.duckdb")
    return scenario(target)


@pytest.fixture(scope="module")
def postgres_scenario() -> Iterator[dict]:
    with throwaway_pg_target("cdp_feat") as target:
        yield scenario(target)


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def outcome(request: pytest.FixtureRequest) -> dict:
    return request.getfixturevalue(f"{request.param}_scenario")


@pytest.mark.slow
@pytest.mark.parametrize("as_of", MOMENTS)
@pytest.mark.parametrize("table", FEATURES)
def test_incremental_features_equal_a_full_refresh_row_by_row(outcome: dict, as_of: str, table: str):
    incremental, full = outcome[as_of]["incremental"][table], outcome[as_of]["full_refresh"][table]
    assert len(full) > 100, table
    assert_same_rows(incremental, full, (table, as_of))


@pytest.mark.slow
def test_untouched_rows_are_kept_not_computed_again(outcome: dict):
    assert outcome["sentinel_kept"]


@pytest.mark.slow
def test_a_changed_features_sql_computes_everyone(outcome: dict):
    assert not outcome["sentinel_kept_after_sql_change"]
