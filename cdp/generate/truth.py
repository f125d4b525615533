"""The hidden ground truth (schema raw_truth): persons, their identifiers, and whose each raw record is."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cdp.generate.arrowkit import dense, null_where, take, timestamps
from cdp.generate.behaviour import Lifecycle
from cdp.generate.identities import e164
from cdp.generate.people import NEVER, People
from cdp.generate.timefmt import US_PER_DAY
from cdp.generate.vocab import Vocabulary

TRUTH_SCHEMA = "raw_truth"

# (source, table) -> record key column whose value (as text) names a record
RECORD_KEYS: dict[tuple[str, str], str] = {
    ("segment", "identifies"): "id",
    ("segment", "pages"): "id",
    ("segment", "screens"): "id",
    ("segment", "tracks"): "id",
    ("email", "email_events"): "event_id",
    ("ads", "ad_clicks"): "click_id",
    ("ads", "ad_conversions"): "conversion_id",
    ("pos", "transactions"): "transaction_id",
    ("crm", "contacts"): "hs_object_id",
    ("support", "tickets"): "id",
    ("shop", "customers"): "id",
    ("shop", "orders"): "id",
    ("consent", "consent_events"): "event_id",
    ("consent", "deletion_requests"): "request_id",
}

TRUTH_TABLES: dict[str, list[tuple[str, str]]] = {
    "persons": [
        ("person_id", "bigint"),
        ("household_id", "bigint"),
        ("first_name", "varchar"),
        ("last_name", "varchar"),
        ("birth_date", "date"),
        ("email", "varchar"),
        ("phone", "varchar"),
        ("postcode", "varchar"),
        ("is_anonymous_only", "boolean"),
        ("has_account", "boolean"),
        ("user_id", "varchar"),
        ("acquired_at", "timestamptz"),
        ("churned_at", "timestamptz"),
        ("deletion_requested", "boolean"),
        ("email_subscribed", "boolean"),
        ("purchase_rate", "double"),
        ("dropout_probability", "double"),
        ("visit_rate", "double"),
        ("purchases", "integer"),
        ("first_purchase_at", "timestamptz"),
        ("last_purchase_at", "timestamptz"),
    ],
    "person_identifiers": [
        ("person_id", "bigint"),
        ("identifier_type", "varchar"),
        ("identifier_value", "varchar"),
        ("is_shared", "boolean"),
    ],
    "record_persons": [
        ("source_name", "varchar"),
        ("table_name", "varchar"),
        ("record_id", "varchar"),
        ("person_id", "bigint"),
    ],
}


def persons_table(people: People, life: Lifecycle, vocab: Vocabulary) -> pa.Table:
    pur = life.purchases
    count = np.bincount(pur.person, minlength=people.n)
    first = np.full(people.n, NEVER, dtype=np.int64)
    last = np.full(people.n, -1, dtype=np.int64)
    np.minimum.at(first, pur.person, pur.t_us)
    np.maximum.at(last, pur.person, pur.t_us)
    churned = life.churned_us
    return pa.table(
        {
            "person_id": pa.array(people.pid),
            "household_id": pa.array(people.household),
            "first_name": take(vocab.first_names, people.first),
            "last_name": take(vocab.last_names, people.last),
            "birth_date": pa.array((people.birth_us // US_PER_DAY).astype(np.int32)).view(pa.date32()),
            "email": people.email,
            "phone": null_where(people.mobile == 0, e164(np.maximum(people.mobile, 2_000_000_000))),
            "postcode": take(vocab.zips, people.place),
            "is_anonymous_only": pa.array(~people.known),
            "has_account": pa.array(people.has_account),
            "user_id": people.user_id,
            "acquired_at": timestamps(people.acquired_us),
            "churned_at": timestamps(churned, null_mask=churned == NEVER),
            "deletion_requested": pa.array(people.deletion_requested),
            "email_subscribed": pa.array(people.subscribed),
            "purchase_rate": pa.array(people.purchase_rate),
            "dropout_probability": pa.array(np.where(people.known, people.dropout, np.nan)),
            "visit_rate": pa.array(people.visit_rate),
            "purchases": pa.array(count.astype(np.int32)),
            "first_purchase_at": timestamps(first, null_mask=count == 0),
            "last_purchase_at": timestamps(last, null_mask=count == 0),
        }
    )


def identifiers_table(people: People) -> pa.Table:
    """Every email and phone a person owns (shared ones flagged), plus user and loyalty ids."""
    pid = pa.array(people.pid)
    parts = []

    def add(kind: str, values: pa.Array, shared: bool | np.ndarray) -> None:
        values = dense(values)
        valid = pc.is_valid(values)
        flags = pa.array(np.broadcast_to(np.asarray(shared), (people.n,)).copy())
        parts.append(
            pa.table(
                {
                    "person_id": pid.filter(valid),
                    "identifier_type": pa.repeat(kind, people.n).filter(valid),
                    "identifier_value": values.filter(valid),
                    "is_shared": flags.filter(valid),
                }
            )
        )

    add("email", people.email, False)
    add("email_work", people.work_email, False)
    add("email_old", people.old_email, False)
    add("email_typo", people.typo_email, False)
    add("email_household", people.shared_email, True)
    add("phone_mobile", null_where(people.mobile == 0, e164(np.maximum(people.mobile, 2_000_000_000))), False)
    landline = null_where(people.landline == 0, e164(np.maximum(people.landline, 2_000_000_000)))
    add("phone_landline", landline, people.hh_size > 1)
    add("user_id", people.user_id, False)
    loyalty = null_where(~people.loyalty, people.loyalty_ids(np.arange(people.n)))
    add("loyalty_id", loyalty, False)
    return pa.concat_tables(parts)


def record_persons(tables: dict[tuple[str, str], pa.Table]) -> pa.Table:
    """One row per distinct (source, table, record id) with a person; null keys left out."""
    parts = []
    for (source, name), key in RECORD_KEYS.items():
        table = tables[(source, name)]
        ids = dense(table.column(key).combine_chunks())
        if not pa.types.is_string(ids.type):
            ids = pc.cast(ids, pa.string())
        t = pa.table({"record_id": ids, "person_id": table.column("_person_id").combine_chunks()})
        t = t.filter(pc.and_(pc.is_valid(t.column("record_id")), pc.is_valid(t.column("person_id"))))
        t = t.group_by(["record_id", "person_id"]).aggregate([])
        n = t.num_rows
        parts.append(
            pa.table(
                {
                    "source_name": pa.repeat(source, n),
                    "table_name": pa.repeat(name, n),
                    "record_id": t.column("record_id"),
                    "person_id": t.column("person_id"),
                }
            )
        )
    return pa.concat_tables(parts)
