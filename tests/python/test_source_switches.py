"""Each source can be switched off and the project still builds (models, tests, marts)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from cdp.dbt_runner import run_dbt
from cdp.generate import generate
from cdp.warehouse import Target, connect, relation_schema, resolve_target

SOURCES = ["segment", "email", "ads", "pos", "crm", "support", "shop", "consent"]


@pytest.fixture(scope="module")
def small_world(tmp_path_factory: pytest.TempPathFactory) -> Target:
    path = tmp_path_factory.mktemp("switches") / "cdp.duckdb"
    target = dataclasses.replace(resolve_target("dev"), duckdb_path=path)
    generate(customers=300, seed=11, target=target, progress=False)
    return target


@pytest.mark.slow
@pytest.mark.parametrize("disabled", [SOURCES[:4], SOURCES[4:]], ids=["first-half-off", "second-half-off"])
def test_project_builds_with_sources_switched_off(small_world: Target, disabled: list[str]):
    switches = {f"{source}_enabled": source not in disabled for source in SOURCES}
    assert run_dbt(["build", "--vars", json.dumps(switches)], target=small_world, check=False).returncode == 0
    warehouse = connect(small_world)
    try:
        marts = relation_schema(small_world, "marts")
        seen = {row[0] for row in warehouse.query(f"select distinct source_name from {marts}.customer_events")}
    finally:
        warehouse.close()
    assert seen, "the enabled sources produced no events"
    assert not seen & set(disabled), f"events from switched-off sources: {seen & set(disabled)}"
