"""Creating the raw and truth tables and writing generated chunks to them, checked against the contract."""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

from cdp.contract import RawTable
from cdp.generate.truth import TRUTH_SCHEMA, TRUTH_TABLES
from cdp.warehouse import Warehouse

PERSON_COLUMN = "_person_id"  # truth carried alongside generated rows, never written to raw tables


class ContractError(ValueError):
    """Generated data does not fit the raw data contract; the message names the table and columns."""


_DECIMAL = re.compile(r"^(?:numeric|decimal)\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)$")


def arrow_type(data_type: str, where: str) -> pa.DataType:
    t = data_type.strip().lower()
    simple = {
        "varchar": pa.string(),
        "text": pa.string(),
        "string": pa.string(),
        "bigint": pa.int64(),
        "integer": pa.int32(),
        "int": pa.int32(),
        "smallint": pa.int16(),
        "boolean": pa.bool_(),
        "date": pa.date32(),
        "double": pa.float64(),
        "double precision": pa.float64(),
        "timestamptz": pa.timestamp("us", tz="UTC"),
        "timestamp with time zone": pa.timestamp("us", tz="UTC"),
        "timestamp": pa.timestamp("us"),
    }
    if t in simple:
        return simple[t]
    m = _DECIMAL.match(t)
    if m:
        return pa.decimal128(int(m.group(1)), int(m.group(2)))
    raise ContractError(f"{where}: data_type {data_type!r} has no Arrow equivalent in the generator")


class RawWriter:
    """Owns the DDL and the conforming of every generated table before it is written."""

    def __init__(self, warehouse: Warehouse, contract: dict[str, dict[str, RawTable]]) -> None:
        self.warehouse = warehouse
        self.contract = contract
        self.decode_dictionaries = warehouse.target.type != "duckdb"
        self.rows: dict[str, int] = {}

    def raw(self, source: str, table: str) -> RawTable:
        try:
            return self.contract[source][table]
        except KeyError:
            raise ContractError(
                f"generator writes {source}.{table}, which no models/staging/{source}/_{source}__sources.yml declares"
            ) from None

    def recreate(self, generated: set[tuple[str, str]]) -> None:
        """Drop and create every contract table (and the truth tables); all must be generated."""
        missing = sorted(f"{s}.{t}" for s, tables in self.contract.items() for t in tables if (s, t) not in generated)
        if missing:
            raise ContractError(f"the contract declares table(s) the generator does not produce: {', '.join(missing)}")
        for source, tables in self.contract.items():
            for raw in tables.values():
                self.warehouse.execute(f'create schema if not exists "{raw.schema}"')
                self.warehouse.execute(f'drop table if exists "{raw.schema}"."{raw.identifier}"')
                self.warehouse.execute(raw.create_sql())
                self.rows[f"{source}.{raw.name}"] = 0
        self.warehouse.execute(f'create schema if not exists "{TRUTH_SCHEMA}"')
        for name, cols in TRUTH_TABLES.items():
            ddl = ",\n  ".join(f'"{c}" {"double precision" if t == "double" else t}' for c, t in cols)
            self.warehouse.execute(f'drop table if exists "{TRUTH_SCHEMA}"."{name}"')
            self.warehouse.execute(f'create table "{TRUTH_SCHEMA}"."{name}" (\n  {ddl}\n)')
            self.rows[f"{TRUTH_SCHEMA}.{name}"] = 0

    def conform(self, raw: RawTable, data: pa.Table) -> pa.Table:
        where = f"{raw.source}.{raw.name}"
        produced = [c for c in data.column_names if c != PERSON_COLUMN]
        missing = [c for c in raw.column_names if c not in produced]
        extra = [c for c in produced if c not in raw.column_names]
        if missing:
            raise ContractError(f"{where}: the generator produces no value for contract column(s) {missing}")
        if extra:
            raise ContractError(f"{where}: the generator produces column(s) {extra} the contract does not declare")
        arrays, fields = [], []
        for col in raw.columns:
            target = arrow_type(col.data_type, f"{where}.{col.name}")
            arr = data.column(col.name)
            if pa.types.is_dictionary(arr.type) and (self.decode_dictionaries or not pa.types.is_string(target)):
                arr = pc.cast(arr, arr.type.value_type)
            if arr.type != target and not (pa.types.is_dictionary(arr.type) and pa.types.is_string(target)):
                try:
                    arr = pc.cast(arr, target)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                    raise ContractError(
                        f"{where}.{col.name}: values of type {arr.type} do not cast to {col.data_type}: {exc}"
                    ) from None
            arrays.append(arr)
            fields.append(pa.field(col.name, arr.type))
        return pa.Table.from_arrays(arrays, schema=pa.schema(fields))

    def write(self, source: str, table: str, data: pa.Table) -> int:
        raw = self.raw(source, table)
        conformed = self.conform(raw, data)
        if conformed.num_rows:
            self.warehouse.write_arrow(raw.schema, raw.identifier, conformed)
        self.rows[f"{source}.{table}"] += conformed.num_rows
        return conformed.num_rows

    def write_truth(self, name: str, data: pa.Table) -> int:
        cols = [c for c, _ in TRUTH_TABLES[name]]
        if data.column_names != cols:
            raise ContractError(f"{TRUTH_SCHEMA}.{name}: generated columns {data.column_names} differ from {cols}")
        if self.decode_dictionaries:
            data = pa.table(
                {
                    c: (pc.cast(a, a.type.value_type) if pa.types.is_dictionary(a.type) else a)
                    for c, a in zip(data.column_names, data.columns, strict=True)
                }
            )
        if data.num_rows:
            self.warehouse.write_arrow(TRUTH_SCHEMA, name, data)
        self.rows[f"{TRUTH_SCHEMA}.{name}"] += data.num_rows
        return data.num_rows
