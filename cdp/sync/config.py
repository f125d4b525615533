"""Sync definitions read from syncs.yml, validated: every error names the file, the sync, the
key and the value at fault."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cdp.warehouse import PROJECT_DIR, ConfigError

SYNCS_FILE = PROJECT_DIR / "syncs.yml"

DESTINATIONS = ("hubspot", "salesforce")
MODES = ("upsert", "update_only", "mirror")
FIELD_TYPES = ("string", "number", "date", "datetime", "bool")
DELETION_IDENTIFIERS = ("email", "phone", "crm_contact_id", "customer_id")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class FieldMapping:
    column: str
    field: str
    type: str = "string"
    send_nulls: bool = False


@dataclass(frozen=True)
class Consent:
    """A row is sent only with this consent: a boolean model column, or a purpose granted in
    customer_consent for the customer in `customer_id_column`."""

    purpose: str | None = None
    customer_id_column: str | None = None
    column: str | None = None

    def describe(self) -> str:
        return f"column {self.column}" if self.column else f"{self.purpose} consent"


@dataclass(frozen=True)
class SyncConfig:
    name: str
    model: str
    destination: str
    object_type: str
    match_column: str
    match_field: str
    fields: tuple[FieldMapping, ...]
    mode: str = "upsert"
    batch_size: int = 100
    match_type: str = "string"
    consent: Consent | None = None
    customer_id_column: str | None = None
    deletion_identifier: str | None = None
    source: str = "syncs.yml"

    @property
    def columns(self) -> list[str]:
        """Model columns the sync reads: the key, then the mapped fields."""
        return [self.match_column] + [f.column for f in self.fields if f.column != self.match_column]

    def field_types(self) -> dict[str, str]:
        types = {f.field: f.type for f in self.fields}
        if self.match_field not in types:
            types[self.match_field] = self.match_type
        return types

    def mapping_signature(self) -> str:
        """Changes whenever the mapping does, so a mapping change re-sends every row."""
        parts = [f"{f.column}>{f.field}:{f.type}:{int(f.send_nulls)}" for f in self.fields]
        return f"{self.match_column}>{self.match_field};" + ";".join(parts)


@dataclass
class SyncsFile:
    path: Path
    syncs: dict[str, SyncConfig] = field(default_factory=dict)

    def get(self, name: str) -> SyncConfig:
        if name not in self.syncs:
            raise ConfigError(f"{self.path}: no sync named {name!r} (defined: {', '.join(sorted(self.syncs))})")
        return self.syncs[name]


def load_syncs(path: Path | str | None = None) -> SyncsFile:
    path = Path(path) if path is not None else SYNCS_FILE
    if not path.exists():
        raise ConfigError(f"{path}: the sync definitions file does not exist")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("syncs"), list):
        raise ConfigError(f"{path}: expected a top-level key 'syncs' holding a list of sync definitions")
    result = SyncsFile(path=path)
    for index, entry in enumerate(data["syncs"]):
        sync = parse_sync(entry, f"{path}", index)
        if sync.name in result.syncs:
            raise ConfigError(f"{path}: sync {sync.name!r}: key 'name': value {sync.name!r} is defined twice")
        result.syncs[sync.name] = sync
    return result


def parse_sync(entry: Any, source: str, index: int = 0) -> SyncConfig:
    if not isinstance(entry, dict):
        raise ConfigError(f"{source}: sync #{index + 1}: expected a mapping, got {entry!r}")
    label = f"sync #{index + 1}"
    name = entry.get("name")
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        raise ConfigError(f"{source}: {label}: key 'name': value {name!r} must be an identifier")
    where = f"{source}: sync {name!r}"

    def fail(key: str, value: Any, why: str) -> ConfigError:
        return ConfigError(f"{where}: key {key!r}: value {value!r} {why}")

    known = {"name", "model", "destination", "object_type", "match_key", "fields", "mode", "batch_size",
             "consent", "customer_id_column", "deletions"}
    for key in entry:
        if key not in known:
            raise fail(key, entry[key], f"is not a known key (known: {', '.join(sorted(known))})")

    def identifier(key: str, value: Any) -> str:
        if not isinstance(value, str) or not _IDENTIFIER.match(value):
            raise fail(key, value, "must be an identifier (letters, digits, underscores)")
        return value

    model = identifier("model", entry.get("model"))
    destination = entry.get("destination")
    if destination not in DESTINATIONS:
        raise fail("destination", destination, f"must be one of {', '.join(DESTINATIONS)}")
    object_type = identifier("object_type", entry.get("object_type"))
    match = entry.get("match_key")
    if not isinstance(match, dict):
        raise fail("match_key", match, "must be a mapping {column: <model column>, field: <CRM field>}")
    match_column = identifier("match_key.column", match.get("column"))
    match_field = identifier("match_key.field", match.get("field"))
    match_type = match.get("type", "string")
    if match_type not in FIELD_TYPES:
        raise fail("match_key.type", match_type, f"must be one of {', '.join(FIELD_TYPES)}")

    raw_fields = entry.get("fields")
    if not isinstance(raw_fields, list) or not raw_fields:
        raise fail("fields", raw_fields, "must be a non-empty list of {column, field, type}")
    fields: list[FieldMapping] = []
    seen_fields: set[str] = set()
    for position, item in enumerate(raw_fields):
        key = f"fields[{position}]"
        if not isinstance(item, dict):
            raise fail(key, item, "must be a mapping {column, field, type}")
        for sub in item:
            if sub not in ("column", "field", "type", "send_nulls"):
                raise fail(f"{key}.{sub}", item[sub], "is not a known key (column, field, type, send_nulls)")
        column = identifier(f"{key}.column", item.get("column"))
        crm_field = identifier(f"{key}.field", item.get("field", column))
        ftype = item.get("type", "string")
        if ftype not in FIELD_TYPES:
            raise fail(f"{key}.type", ftype, f"must be one of {', '.join(FIELD_TYPES)}")
        send_nulls = item.get("send_nulls", False)
        if not isinstance(send_nulls, bool):
            raise fail(f"{key}.send_nulls", send_nulls, "must be true or false")
        if crm_field in seen_fields or crm_field == match_field:
            raise fail(f"{key}.field", crm_field, "is mapped twice (or is the match key field)")
        seen_fields.add(crm_field)
        fields.append(FieldMapping(column=column, field=crm_field, type=ftype, send_nulls=send_nulls))

    mode = entry.get("mode", "upsert")
    if mode not in MODES:
        raise fail("mode", mode, f"must be one of {', '.join(MODES)}")
    batch_size = entry.get("batch_size", 100)
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise fail("batch_size", batch_size, "must be a positive integer")

    consent = None
    raw_consent = entry.get("consent")
    if raw_consent is not None:
        if not isinstance(raw_consent, dict):
            raise fail("consent", raw_consent, "must be {purpose, customer_id_column} or {column}")
        if "column" in raw_consent:
            if set(raw_consent) != {"column"}:
                raise fail("consent", raw_consent, "takes either column alone or purpose and customer_id_column")
            consent = Consent(column=identifier("consent.column", raw_consent["column"]))
        else:
            for sub in raw_consent:
                if sub not in ("purpose", "customer_id_column"):
                    raise fail(f"consent.{sub}", raw_consent[sub], "is not a known key (purpose, customer_id_column)")
            consent = Consent(
                purpose=identifier("consent.purpose", raw_consent.get("purpose")),
                customer_id_column=identifier("consent.customer_id_column", raw_consent.get("customer_id_column")),
            )

    customer_id_column = entry.get("customer_id_column")
    if customer_id_column is not None:
        customer_id_column = identifier("customer_id_column", customer_id_column)

    deletion_identifier = None
    deletions = entry.get("deletions")
    if deletions is not None:
        if not isinstance(deletions, dict) or set(deletions) != {"identifier_type"}:
            raise fail("deletions", deletions,
                       "must be {identifier_type: email | phone | crm_contact_id | customer_id}")
        deletion_identifier = deletions["identifier_type"]
        if deletion_identifier not in DELETION_IDENTIFIERS:
            raise fail("deletions.identifier_type", deletion_identifier,
                       f"must be one of {', '.join(DELETION_IDENTIFIERS)}")

    return SyncConfig(
        name=name, model=model, destination=destination, object_type=object_type,
        match_column=match_column, match_field=match_field, match_type=match_type, fields=tuple(fields),
        mode=mode, batch_size=batch_size, consent=consent, customer_id_column=customer_id_column,
        deletion_identifier=deletion_identifier, source=source,
    )


def check_against_columns(sync: SyncConfig, columns: list[str], schema: str) -> None:
    """Every column the sync names must exist in the model."""
    needed: list[tuple[str, str]] = [("match_key.column", sync.match_column)]
    needed += [(f"fields[{i}].column", f.column) for i, f in enumerate(sync.fields)]
    if sync.customer_id_column:
        needed.append(("customer_id_column", sync.customer_id_column))
    if sync.consent is not None:
        if sync.consent.column:
            needed.append(("consent.column", sync.consent.column))
        else:
            needed.append(("consent.customer_id_column", sync.consent.customer_id_column or ""))
    for key, column in needed:
        if column not in columns:
            raise ConfigError(
                f"{sync.source}: sync {sync.name!r}: key {key!r}: value {column!r} is not a column of "
                f"{schema}.{sync.model} (columns: {', '.join(columns)})"
            )
