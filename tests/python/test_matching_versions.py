"""The matcher's tables past int_matching__profiles are versioned tables: a build keeps them
as they are while the profiles' content and their own SQL stay the same, and builds again
exactly those whose SQL or inputs changed. On both warehouses: a new order from a known
person (same profile, one more record) keeps every pair and score; a new person builds them
all again; a changed scoring var builds again the scored pairs only; and the kept tables hold
the rows a --full-refresh gives.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from cdp.contract import load_contract
from cdp.dbt_runner import run_dbt
from cdp.generate import generate
from cdp.warehouse import Target, connect, relation_schema, resolve_target
from tests.python.conftest import throwaway_pg_target
from tests.python.raw_rows import insert_rows, ts
from tests.python.test_incremental import assert_same_rows, comparable_rows

VERSIONED = ["int_matching__term_frequencies", "int_matching__candidate_pairs", "int_matching__u_probabilities",
             "int_matching__comparison_vectors", "int_matching__comparison_patterns", "int_matching__parameters",
             "int_matching__scored_pairs", "int_matching__clusters"]


def run(target: Target, *args: str) -> None:
    run_dbt(["run", "--select", "+int_matching__clusters", *args], target=target,
            target_path=f"target/matching-versions-{target.type}")


def versions(target: Target) -> dict[str, str]:
    """Each versioned table's kept output version."""
    schema = relation_schema(target, "intermediate")
    warehouse = connect(target)
    try:
        found = {}
        tables = warehouse.query(f"select table_name from information_schema.tables where table_schema = '{schema}' "
                                 f"and table_name like '%\\_\\_version' escape '\\'")
        for name, in tables:
            model = next((model for model in VERSIONED if name.startswith(model[:32])), None)
            if model:
                found[model] = warehouse.query(f'select output_version from {schema}."{name}"')[0][0]
        return found
    finally:
        warehouse.close()


def last_analysed(target: Target) -> dict[str, object]:
    """On Postgres, when each versioned table was last analysed by a build (None elsewhere)."""
    if target.type != "postgres":
        return {}
    warehouse = connect(target)
    try:
        return dict(warehouse.query(
            "select relname, last_analyze from pg_stat_user_tables "
            f"where schemaname = '{relation_schema(target, 'intermediate')}' "
            f"and relname in ({', '.join(repr(model) for model in VERSIONED)})"))
    finally:
        warehouse.close()


def scored_pairs(target: Target) -> list[tuple]:
    warehouse = connect(target)
    try:
        return comparable_rows(warehouse, f"select * from {relation_schema(target, 'intermediate')}"
                                          f".int_matching__scored_pairs")
    finally:
        warehouse.close()


def profile_records(target: Target, profile_key: str) -> int:
    warehouse = connect(target)
    try:
        return warehouse.query(f"select record_count from {relation_schema(target, 'intermediate')}"
                               f".int_matching__profiles where profile_key = '{profile_key}'")[0][0]
    finally:
        warehouse.close()


def repeat_an_order(target: Target) -> str:
    """A known person orders again: a copy of an order with a new id. Returns its profile key."""
    raw = load_contract()["shop"]["orders"]
    relation = f'"{raw.schema}"."{raw.identifier}"'
    columns = [f'"{column.name}"' for column in raw.columns]
    chosen = [f"(select max(id) from {relation}) + 1" if column == '"id"' else column for column in columns]
    warehouse = connect(target)
    try:
        order_id, = warehouse.query(f"select min(id) from {relation} where shipping_address_last_name is not null")[0]
        profile_key, = warehouse.query(
            f"select profile_key from {relation_schema(target, 'intermediate')}.int_matching__record_profiles "
            f"where source_table = 'shop.orders' and record_id = '{order_id}'")[0]
        warehouse.execute(f"insert into {relation} ({', '.join(columns)}) "
                          f"select {', '.join(chosen)} from {relation} where id = {order_id}")
    finally:
        warehouse.close()
    return profile_key


def add_a_person(target: Target) -> None:
    warehouse = connect(target)
    try:
        insert_rows(warehouse, "crm", "contacts", [{
            "hs_object_id": "versions-new-person", "firstname": "Zebedee", "lastname": "Quillfeather",
            "email": "zebedee.quillfeather@example.org", "address": "7 Lantern Row", "city": "Bristol",
            "zip": "BS1 4DJ", "date_of_birth": "1981-03-14", "createdate": "2026-10-30T09:00:00Z",
            "lastmodifieddate": "2026-10-30T09:00:00Z", "_loaded_at": ts("2026-10-30 10:00:00")}])
    finally:
        warehouse.close()


def scenario(target: Target) -> dict:
    generate(customers=300, seed=47, target=target, progress=False)
    run_dbt(["seed"], target=target, target_path=f"target/matching-versions-{target.type}")
    run(target)
    first = versions(target)
    analysed_first = last_analysed(target)
    profile_key = repeat_an_order(target)
    records_before = profile_records(target, profile_key)
    run(target)
    after_repeat = versions(target)
    analysed_after_repeat = last_analysed(target)
    kept_pairs = scored_pairs(target)
    records_after = profile_records(target, profile_key)
    run(target, "--full-refresh")
    refreshed_pairs = scored_pairs(target)
    after_refresh = versions(target)
    add_a_person(target)
    run(target)
    after_person = versions(target)
    run(target, "--vars", json.dumps({"matching_floor_weight": -9}))
    after_var = versions(target)
    return {"first": first, "after_repeat": after_repeat, "records": (records_before, records_after),
            "analysed": (analysed_first, analysed_after_repeat),
            "kept_pairs": kept_pairs, "refreshed_pairs": refreshed_pairs, "after_refresh": after_refresh,
            "after_person": after_person, "after_var": after_var}


@pytest.fixture(scope="module")
def duckdb_scenario(tmp_path_factory: pytest.TempPathFactory) -> dict:
    target = dataclasses.replace(resolve_target("dev"),
                                 duckdb_path=tmp_path_factory.mktemp("matching-versions") / "cdp.duckdb")
    return scenario(target)


@pytest.fixture(scope="module")
def postgres_scenario() -> Iterator[dict]:
    with throwaway_pg_target("cdp_versions") as target:
        yield scenario(target)


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def outcome(request: pytest.FixtureRequest) -> dict:
    return request.getfixturevalue(f"{request.param}_scenario")


@pytest.mark.slow
def test_a_known_person_ordering_again_keeps_every_matcher_table(outcome: dict):
    assert set(outcome["first"]) == set(VERSIONED)
    before, after = outcome["records"]
    assert after == before + 1  # the profiles were built again: one more record
    assert outcome["after_repeat"] == outcome["first"]


@pytest.mark.slow
@pytest.mark.parametrize("warehouse", [pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_kept_table_is_not_analysed_again(warehouse: str, request: pytest.FixtureRequest):
    # Postgres analyses a table as it is built; a kept table is unchanged, so its statistics stand.
    # Parametrised by warehouse so that it runs in the process of the other Postgres tests of
    # this module (conftest's groups), which builds the Postgres scenario once for all of them.
    first, after_repeat = request.getfixturevalue(f"{warehouse}_scenario")["analysed"]
    assert set(first) == set(VERSIONED) and all(first.values()), first
    assert after_repeat == first


@pytest.mark.slow
def test_kept_pairs_are_the_pairs_a_full_refresh_gives(outcome: dict):
    assert outcome["kept_pairs"]
    assert_same_rows(outcome["kept_pairs"], outcome["refreshed_pairs"], "int_matching__scored_pairs")
    # --full-refresh builds every versioned table again
    assert all(outcome["after_refresh"][model] != outcome["after_repeat"][model] for model in VERSIONED)


@pytest.mark.slow
def test_a_new_person_builds_the_matcher_again(outcome: dict):
    assert all(outcome["after_person"][model] != outcome["after_refresh"][model] for model in VERSIONED)


@pytest.mark.slow
def test_a_changed_var_builds_again_only_the_tables_whose_sql_it_changes(outcome: dict):
    rebuilt = {model for model in VERSIONED if outcome["after_var"][model] != outcome["after_person"][model]}
    # the scored pairs' SQL changed; the clusters read them, so they are built again too
    assert rebuilt == {"int_matching__scored_pairs", "int_matching__clusters"}


def test_no_versioned_matcher_table_reads_the_profiles_record_count():
    # the profiles' content version leaves record_count out: a matcher table that read it would
    # be kept while it changed
    root = Path(__file__).resolve().parents[2]
    readers = [root / "models" / "intermediate" / "matching" / f"{model}.sql" for model in VERSIONED]
    readers += sorted((root / "macros" / "matching").glob("*.sql"))
    assert all(path.exists() for path in readers)
    assert [path.name for path in readers if "record_count" in path.read_text()] == []
