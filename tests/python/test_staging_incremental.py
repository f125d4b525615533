"""Incremental staging restages only the records whose raw rows changed, on both warehouses.

A sentinel written straight into a staged row that no raw change touches survives an
incremental build (the row was not rewritten), while a new record, a copy of a record loaded
again later (which must now be the version kept), a record corrected in place and a record
whose raw row was deleted are staged as a full refresh stages them. A full refresh then
replaces the sentinel with the raw value.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from cdp.contract import load_contract
from cdp.dbt_runner import run_dbt
from cdp.generate import generate
from cdp.warehouse import Target, connect, relation_schema, resolve_target
from tests.python.conftest import throwaway_pg_target

MODEL = "base_segment__pages"


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    if request.param == "duckdb":
        target = dataclasses.replace(resolve_target("dev"),
                                     duckdb_path=tmp_path_factory.mktemp("staging") / "cdp.duckdb")
        generate(customers=60, seed=5, target=target, progress=False)
        yield target
    else:
        with throwaway_pg_target("cdp_staging") as target:
            generate(customers=60, seed=5, target=target, progress=False)
            yield target


def stage(target: Target, *args: str) -> None:
    run_dbt(["run", "--select", MODEL, *args], target=target, target_path=f"target/staging-{target.type}")


def test_incremental_staging_rewrites_only_changed_records(world: Target):
    raw = load_contract()["segment"]["pages"]
    raw_table = f'"{raw.schema}"."{raw.identifier}"'
    base = f"{relation_schema(world, 'staging')}.{MODEL}"
    stage(world)
    warehouse = connect(world)
    try:
        ids = [row[0] for row in warehouse.query(
            f"select id from {raw_table} where id in (select id from {raw_table} group by id having count(*) = 1) "
            f"and title is not null order by id limit 4")]
        untouched, reloaded, corrected, deleted = ids
        warehouse.execute(f"update {base} set page_title = 'sentinel' where event_id = '{untouched}'")
        def copy(event_id: str, replacements: dict[str, str]) -> None:
            columns = ", ".join(f'{replacements.get(column.name, column.name)} as "{column.name}"'
                                for column in raw.columns)
            warehouse.execute(f"insert into {raw_table} select {columns} from {raw_table} where id = '{event_id}'")

        # delivered again a day later with another title: that copy must become the kept version
        copy(reloaded, {"uuid_ts": "uuid_ts + interval '1 day'", "title": "'Reloaded title'"})
        copy(untouched, {"id": "id || '-new'", "title": "'New title'"})  # a new record
        warehouse.execute(f"update {raw_table} set title = 'Corrected title' where id = '{corrected}'")
        warehouse.execute(f"delete from {raw_table} where id = '{deleted}'")
    finally:
        warehouse.close()

    stage(world)
    warehouse = connect(world)
    try:
        def staged(event_id: str) -> list[tuple]:
            return warehouse.query(f"select page_title, _version_rank from {base} where event_id = '{event_id}' "
                                   f"order by _version_rank")

        assert staged(untouched) == [("sentinel", 1)]  # not rewritten: no raw change touched it
        assert staged(f"{untouched}-new") == [("New title", 1)]
        assert staged(reloaded)[0] == ("Reloaded title", 1) and len(staged(reloaded)) == 2
        assert staged(corrected) == [("Corrected title", 1)]
        assert staged(deleted) == []
        assert warehouse.query(f"select count(*) from {base}") == warehouse.query(f"select count(*) from {raw_table}")
        # the removed record is logged for the models built record by record downstream
        assert warehouse.query(f"select event_id from {base}__vanished") == [(deleted,)]
        # the pre-hook's comparison of raw and staged keys is dropped by the post-hook
        leftovers = warehouse.query(
            f"select table_name from information_schema.tables where table_schema = "
            f"'{relation_schema(world, 'staging')}' and table_name like '{MODEL}%changed_keys'")
        assert leftovers == []
    finally:
        warehouse.close()

    stage(world, "--full-refresh")
    warehouse = connect(world)
    try:
        title = warehouse.query(f"select title from {raw_table} where id = '{untouched}'")[0][0].strip()
        assert warehouse.query(f"select page_title from {base} where event_id = '{untouched}'") == [(title,)]
    finally:
        warehouse.close()
