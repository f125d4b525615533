"""Write hand-made rows into raw tables (test fixtures), filling unnamed contract columns with null."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from cdp.contract import load_contract
from cdp.warehouse import Warehouse

_ARROW_TYPES = {
    "varchar": pa.string(), "bigint": pa.int64(), "integer": pa.int32(), "boolean": pa.bool_(),
    "date": pa.date32(), "timestamptz": pa.timestamp("us", tz="UTC"),
}


def _arrow_type(data_type: str) -> pa.DataType:
    if data_type.startswith("numeric"):
        return pa.float64()
    return _ARROW_TYPES[data_type]


def insert_rows(warehouse: Warehouse, source: str, table: str, rows: list[dict[str, Any]]) -> None:
    raw = load_contract()[source][table]
    unknown = {key for row in rows for key in row} - set(raw.column_names)
    assert not unknown, f"{source}.{table} has no column(s) {unknown}"
    columns = {
        column.name: pa.array([row.get(column.name) for row in rows], _arrow_type(column.data_type))
        for column in raw.columns
    }
    warehouse.write_arrow(raw.schema, raw.identifier, pa.table(columns))


def delete_rows(warehouse: Warehouse, source: str, table: str, where: str) -> None:
    raw = load_contract()[source][table]
    warehouse.execute(f'delete from "{raw.schema}"."{raw.identifier}" where {where}')


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)
