"""Shared fixtures: small generated worlds built end to end on DuckDB and on Postgres.

Each warehouse is built once per test session and shared by every test that needs it.
Postgres tests run against the server at CDP_PG_HOST:CDP_PG_PORT in a throwaway database;
when CI=true they must run, so an unreachable server fails them instead of skipping.

`make test` runs the tests in two processes (pytest-xdist, --dist loadgroup): every test that
reads the built Postgres world runs in one process, every test that reads the built DuckDB
world in one process, so each world is built once; the other modules, which build worlds of
their own, are shared out whole between the two. Each process keeps its own dbt artefacts
and logs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import socket
import uuid
from collections.abc import Iterator

import pytest

from cdp.generate import generate
from cdp.pipeline import build
from cdp.warehouse import PROJECT_DIR, Target, connect, ensure_pg_database, resolve_target

CUSTOMERS = 1500
SEED = 7

_WORKER = os.environ.get("PYTEST_XDIST_WORKER")
if _WORKER:
    os.environ["CDP_DBT_ARTEFACTS"] = str(PROJECT_DIR / "target" / f"pytest-{_WORKER}")


def _worlds(item: pytest.Item) -> set[str]:
    """The session-built worlds a test reads: 'postgres', 'duckdb', both or none."""
    names = set(getattr(item, "fixturenames", ()))
    callspec = getattr(item, "callspec", None)
    param = callspec.params.get("built") if callspec else None
    worlds = set()
    if "pg_built" in names or param == "postgres":
        worlds.add("postgres")
    if "duckdb_built" in names or param == "duckdb":
        worlds.add("duckdb")
    return worlds


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups from the marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Groups for `--dist loadgroup`: a group runs in one process, so each world is built once.

    Tests of a session-built world: 'postgres' or 'duckdb' (a test reading both goes with the
    Postgres ones; its process builds DuckDB's world too). Other tests build worlds of their
    own in module fixtures: they are grouped by module, and by warehouse where the module
    builds one world per warehouse.
    """
    for item in items:
        worlds = _worlds(item)
        if worlds:
            group = "postgres" if "postgres" in worlds else "duckdb"
        else:
            callspec = getattr(item, "callspec", None)
            params = callspec.params.values() if callspec else ()
            warehouses = [v for v in params if isinstance(v, str) and v in ("duckdb", "postgres")]
            group = "-".join([item.module.__name__.rsplit(".", 1)[-1], *warehouses[:1]])
        item.add_marker(pytest.mark.xdist_group(group))


def postgres_reachable(target: Target) -> bool:
    try:
        socket.create_connection((target.pg_host, target.pg_port), timeout=3).close()
        return True
    except OSError:
        return False


def require_postgres() -> Target:
    base = resolve_target("pg")
    if not postgres_reachable(base):
        message = f"Postgres is not reachable at {base.pg_host}:{base.pg_port}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}, and CI=true: the Postgres tests must run")
        pytest.skip(message)
    return base


def drop_pg_database(target: Target) -> None:
    import psycopg2

    admin = psycopg2.connect(host=target.pg_host, port=target.pg_port, user=target.pg_user,
                             password=target.pg_password or None, dbname="postgres")
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(f'drop database if exists "{target.pg_database}" with (force)')
    finally:
        admin.close()


@pytest.fixture(scope="session")
def duckdb_target(tmp_path_factory: pytest.TempPathFactory) -> Target:
    path = tmp_path_factory.mktemp("duckdb") / "cdp.duckdb"
    return dataclasses.replace(resolve_target("dev"), duckdb_path=path)


@contextlib.contextmanager
def throwaway_pg_target(prefix: str) -> Iterator[Target]:
    """A Postgres target on a new database named <prefix>_<random>, dropped afterwards."""
    base = require_postgres()
    target = dataclasses.replace(base, pg_database=f"{prefix}_{uuid.uuid4().hex[:10]}")
    ensure_pg_database(target)
    try:
        yield target
    finally:
        drop_pg_database(target)


@pytest.fixture(scope="session")
def pg_target() -> Iterator[Target]:
    with throwaway_pg_target("cdp_test") as target:
        yield target


@pytest.fixture(scope="session")
def duckdb_built(duckdb_target: Target) -> Target:
    generate(customers=CUSTOMERS, seed=SEED, target=duckdb_target, progress=False)
    build(duckdb_target)
    return duckdb_target


@pytest.fixture(scope="session")
def pg_built(pg_target: Target) -> Target:
    generate(customers=CUSTOMERS, seed=SEED, target=pg_target, progress=False)
    build(pg_target)
    return pg_target


@pytest.fixture(scope="session", params=["duckdb", "postgres"])
def built(request: pytest.FixtureRequest) -> Target:
    """Each test using it runs once per warehouse."""
    if request.param == "postgres":
        request.applymarker(pytest.mark.postgres)
        return request.getfixturevalue("pg_built")
    return request.getfixturevalue("duckdb_built")


@pytest.fixture
def warehouse(built: Target):
    wh = connect(built)
    yield wh
    wh.close()
