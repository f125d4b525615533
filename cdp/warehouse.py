"""Connections to the two warehouses, resolved the same way profiles.yml resolves them.

The dbt profile and this module read the same environment variables with the same
defaults (a test holds them together), so `cdp generate --target pg` writes exactly where
`dbt build --target pg` reads.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.csv as pacsv

PROJECT_DIR = Path(__file__).resolve().parent.parent

# Defaults shared with profiles.yml.
DEFAULTS: dict[str, str] = {
    "CDP_TARGET": "dev",
    "CDP_DUCKDB_PATH": "warehouse/cdp.duckdb",
    "CDP_DUCKDB_SCHEMA": "cdp",
    "CDP_DUCKDB_MEMORY_LIMIT": "40%",
    "CDP_PG_HOST": "127.0.0.1",
    "CDP_PG_PORT": "5432",
    "CDP_PG_USER": "postgres",
    "CDP_PG_PASSWORD": "",
    "CDP_PG_DATABASE": "cdp",
    "CDP_PG_SCHEMA": "cdp",
}

TARGET_TYPES = {"dev": "duckdb", "pg": "postgres"}


class ConfigError(ValueError):
    """A configuration value is wrong; the message names where it came from."""


def setting(name: str) -> str:
    return os.environ.get(name, DEFAULTS[name])


@dataclass(frozen=True)
class Target:
    name: str
    type: str
    schema: str
    duckdb_path: Path | None = None
    pg_host: str = ""
    pg_port: int = 5432
    pg_user: str = ""
    pg_password: str = ""
    pg_database: str = ""

    def describe(self) -> str:
        if self.type == "duckdb":
            return f"DuckDB file {self.duckdb_path}"
        return f"Postgres {self.pg_user}@{self.pg_host}:{self.pg_port}/{self.pg_database}"


def resolve_target(name: str | None = None) -> Target:
    """Build the connection settings of target `name` (default: CDP_TARGET or dev)."""
    name = name or setting("CDP_TARGET")
    if name not in TARGET_TYPES:
        raise ConfigError(
            f"profiles.yml: target {name!r} is unknown (CDP_TARGET or --target); "
            f"choose one of {sorted(TARGET_TYPES)}"
        )
    if TARGET_TYPES[name] == "duckdb":
        path = Path(setting("CDP_DUCKDB_PATH"))
        if not path.is_absolute():
            path = PROJECT_DIR / path
        return Target(name=name, type="duckdb", schema=setting("CDP_DUCKDB_SCHEMA"), duckdb_path=path)
    port_text = setting("CDP_PG_PORT")
    try:
        port = int(port_text)
    except ValueError:
        raise ConfigError(f"environment: CDP_PG_PORT={port_text!r} is not a port number") from None
    return Target(
        name=name,
        type="postgres",
        schema=setting("CDP_PG_SCHEMA"),
        pg_host=setting("CDP_PG_HOST"),
        pg_port=port,
        pg_user=setting("CDP_PG_USER"),
        pg_password=setting("CDP_PG_PASSWORD"),
        pg_database=setting("CDP_PG_DATABASE"),
    )


def relation_schema(target: Target, layer: str) -> str:
    """Schema dbt builds a layer into (dbt's default: <target schema>_<custom schema>)."""
    return f"{target.schema}_{layer}"


class Warehouse(Protocol):
    target: Target

    def execute(self, sql: str, params: Iterable[Any] | None = None) -> None: ...
    def query(self, sql: str, params: Iterable[Any] | None = None) -> list[tuple]: ...
    def query_arrow(self, sql: str) -> pa.Table: ...
    def table_exists(self, schema: str, table: str) -> bool: ...
    def write_arrow(self, schema: str, table: str, data: pa.Table) -> None: ...
    def replace_table(self, schema: str, table: str, data: pa.Table) -> None: ...
    def close(self) -> None: ...


class DuckDBWarehouse:
    def __init__(self, target: Target, read_only: bool = False) -> None:
        import duckdb

        self.target = target
        assert target.duckdb_path is not None
        if not read_only:
            target.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
        elif not target.duckdb_path.exists():
            raise ConfigError(
                f"CDP_DUCKDB_PATH: {target.duckdb_path} does not exist; run `cdp generate` and `cdp build` first"
            )
        self.con = duckdb.connect(str(target.duckdb_path), read_only=read_only)
        self.con.execute("set TimeZone = 'UTC'")
        self.con.execute(f"set memory_limit = '{setting('CDP_DUCKDB_MEMORY_LIMIT')}'")

    def execute(self, sql: str, params: Iterable[Any] | None = None) -> None:
        # Fetch to completion: DuckDB 2 refuses new work while a result is unfinished.
        self.con.execute(sql, list(params) if params is not None else None).fetchall()

    def query(self, sql: str, params: Iterable[Any] | None = None) -> list[tuple]:
        return self.con.execute(sql, list(params) if params is not None else None).fetchall()

    def query_arrow(self, sql: str) -> pa.Table:
        return self.con.sql(sql).to_arrow_table()

    def table_exists(self, schema: str, table: str) -> bool:
        rows = self.query(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        )
        return rows[0][0] > 0

    def write_arrow(self, schema: str, table: str, data: pa.Table) -> None:
        self.con.register("_cdp_incoming", data)
        try:
            self.con.execute(f'insert into "{schema}"."{table}" by name select * from _cdp_incoming')
        finally:
            self.con.unregister("_cdp_incoming")

    def replace_table(self, schema: str, table: str, data: pa.Table) -> None:
        self.con.execute(f'create schema if not exists "{schema}"')
        self.con.register("_cdp_incoming", data)
        try:
            self.con.execute(f'create or replace table "{schema}"."{table}" as select * from _cdp_incoming')
        finally:
            self.con.unregister("_cdp_incoming")

    def close(self) -> None:
        self.con.close()


class PostgresWarehouse:
    def __init__(self, target: Target) -> None:
        import psycopg2

        self.target = target
        try:
            self.con = psycopg2.connect(
                host=target.pg_host,
                port=target.pg_port,
                user=target.pg_user,
                password=target.pg_password or None,
                dbname=target.pg_database,
                connect_timeout=10,
            )
        except psycopg2.OperationalError as exc:
            raise ConfigError(
                f"cannot connect to {target.describe()} (CDP_PG_HOST, CDP_PG_PORT, CDP_PG_USER, "
                f"CDP_PG_DATABASE): {str(exc).strip()}"
            ) from None
        self.con.autocommit = True
        with self.con.cursor() as cur:
            cur.execute("set timezone = 'UTC'")

    def execute(self, sql: str, params: Iterable[Any] | None = None) -> None:
        with self.con.cursor() as cur:
            if params is None:
                cur.execute(sql)
            else:
                cur.execute(_pg_params(sql), list(params))

    def query(self, sql: str, params: Iterable[Any] | None = None) -> list[tuple]:
        with self.con.cursor() as cur:
            if params is None:
                cur.execute(sql)
            else:
                cur.execute(_pg_params(sql), list(params))
            return cur.fetchall()

    def query_arrow(self, sql: str) -> pa.Table:
        buf = io.BytesIO()
        with self.con.cursor() as cur:
            cur.copy_expert(f"copy ({sql}) to stdout with (format csv, header true)", buf)
        buf.seek(0)
        if buf.getbuffer().nbytes == 0:
            return pa.table({})
        # Postgres writes NULL as an unquoted empty field and '' as "": keep them apart
        options = pacsv.ConvertOptions(strings_can_be_null=True, quoted_strings_can_be_null=False)
        return pacsv.read_csv(buf, convert_options=options)

    def table_exists(self, schema: str, table: str) -> bool:
        rows = self.query(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        )
        return rows[0][0] > 0

    def write_arrow(self, schema: str, table: str, data: pa.Table) -> None:
        buf = io.BytesIO()
        pacsv.write_csv(data, buf, pacsv.WriteOptions(include_header=False))
        buf.seek(0)
        columns = ", ".join(f'"{c}"' for c in data.column_names)
        with self.con.cursor() as cur:
            cur.copy_expert(f'copy "{schema}"."{table}" ({columns}) from stdin with (format csv)', buf)

    def replace_table(self, schema: str, table: str, data: pa.Table) -> None:
        columns = ", ".join(f'"{field.name}" {_pg_type(field.type)}' for field in data.schema)
        with self.con.cursor() as cur:
            cur.execute("begin")
            cur.execute(f'create schema if not exists "{schema}"')
            cur.execute(f'drop table if exists "{schema}"."{table}"')
            cur.execute(f'create table "{schema}"."{table}" ({columns})')
        self.write_arrow(schema, table, data)
        self.execute("commit")

    def close(self) -> None:
        self.con.close()


def _pg_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_boolean(arrow_type):
        return "boolean"
    if pa.types.is_integer(arrow_type):
        return "bigint"
    if pa.types.is_floating(arrow_type):
        return "double precision"
    if pa.types.is_decimal(arrow_type):
        return "numeric"
    if pa.types.is_timestamp(arrow_type):
        return "timestamptz" if arrow_type.tz else "timestamp"
    if pa.types.is_date(arrow_type):
        return "date"
    return "text"


def _pg_params(sql: str) -> str:
    """Let callers write DuckDB-style `?` placeholders for both engines."""
    return sql.replace("%", "%%").replace("?", "%s")


def connect(target: Target | str | None = None, read_only: bool = False) -> Warehouse:
    if not isinstance(target, Target):
        target = resolve_target(target)
    if target.type == "duckdb":
        return DuckDBWarehouse(target, read_only=read_only)
    return PostgresWarehouse(target)


def ensure_pg_database(target: Target) -> None:
    """Create the target's Postgres database when it does not exist yet."""
    import psycopg2

    admin = psycopg2.connect(
        host=target.pg_host,
        port=target.pg_port,
        user=target.pg_user,
        password=target.pg_password or None,
        dbname="postgres",
        connect_timeout=10,
    )
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute("select 1 from pg_database where datname = %s", [target.pg_database])
            if cur.fetchone() is None:
                cur.execute(f'create database "{target.pg_database}"')
    finally:
        admin.close()
