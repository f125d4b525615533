"""What a sync would send: read the sync model, check its key, and describe the batches.

The diff against previous runs, the HTTP clients and the run logs build on this plan.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from cdp.warehouse import ConfigError, Warehouse, relation_schema


@dataclass(frozen=True)
class SyncDefinition:
    name: str
    model: str
    destination: str
    object_type: str
    match_key: str
    batch_size: int


HUBSPOT_CONTACTS = SyncDefinition(
    name="hubspot",
    model="crm_hubspot_contacts",
    destination="hubspot",
    object_type="contacts",
    match_key="email",
    batch_size=100,
)

SYNCS = {HUBSPOT_CONTACTS.name: HUBSPOT_CONTACTS}


@dataclass
class SyncPlan:
    sync: str
    destination: str
    object_type: str
    match_key: str
    rows: int
    upserts: int
    invalid_rows: int
    batches: int
    properties: list[str]
    deletes: int = 0
    sample: list[dict[str, Any]] = field(default_factory=list)

    def summary_json(self) -> str:
        return json.dumps({
            "sync": self.sync, "destination": self.destination, "object_type": self.object_type,
            "match_key": self.match_key, "rows": self.rows, "upserts": self.upserts,
            "invalid_rows": self.invalid_rows, "batches": self.batches, "deletes": self.deletes,
            "properties": self.properties,
        })


def plan_sync(warehouse: Warehouse, definition: SyncDefinition, sample_size: int = 5) -> SyncPlan:
    schema = relation_schema(warehouse.target, "marts")
    if not warehouse.table_exists(schema, definition.model):
        raise ConfigError(f"{schema}.{definition.model} is missing: build the project with `cdp build` first")
    table = warehouse.query_arrow(f'select * from "{schema}"."{definition.model}"')
    if definition.match_key not in table.column_names:
        raise ConfigError(
            f"sync {definition.name}: match key {definition.match_key!r} is not a column of "
            f"{definition.model} ({table.column_names})"
        )
    keys = table.column(definition.match_key).to_pylist()
    seen: set[Any] = set()
    invalid = 0
    for key in keys:
        if key is None or key in seen:
            invalid += 1
        else:
            seen.add(key)
    upserts = len(seen)
    rows = table.slice(0, sample_size).to_pylist()
    sample = [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()} for row in rows]
    return SyncPlan(
        sync=definition.name,
        destination=definition.destination,
        object_type=definition.object_type,
        match_key=definition.match_key,
        rows=table.num_rows,
        upserts=upserts,
        invalid_rows=invalid,
        batches=math.ceil(upserts / definition.batch_size),
        properties=[c for c in table.column_names if c != definition.match_key],
        deletes=_planned_deletes(warehouse, schema, definition),
        sample=sample,
    )


DELETIONS_MODEL = "customer_deletions"


def _planned_deletes(warehouse: Warehouse, schema: str, definition: SyncDefinition) -> int:
    """Records the destination must delete: the CRM contact ids and match-key values of customers
    who asked to be deleted (customer_deletions)."""
    if not warehouse.table_exists(schema, DELETIONS_MODEL):
        raise ConfigError(f"{schema}.{DELETIONS_MODEL} is missing: build the project with `cdp build` first")
    rows = warehouse.query(
        f'select count(*) from (select distinct identifier_type, identifier_value from "{schema}"."{DELETIONS_MODEL}" '
        f"where identifier_type in ('crm_contact_id', '{definition.match_key}')) as keys"
    )
    return int(rows[0][0])
