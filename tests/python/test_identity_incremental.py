"""int_identity__record_identifiers, int_identity__identifiers and int_identity__record_anchors
are built record by record, and customer_events compares only the events those changes reach:
a build writes again only the rows of the records staged or removed since the last one,
computes again only the identifiers those records carry (and those a blocklist or shared-value
change can reach), and the anchors of those records and of records carrying an identifier whose
block status changed. After new records, a record changed in place and a removed one, the
changes must reach the tables while a row nothing touched is kept, not computed again, unless
the SQL changed (renaming the warehouse file in between changes no SQL). (That the tables
equal a full refresh row by row, on both warehouses, is checked by test_incremental.py, whose
scenario builds them too: here the sentinel rows would spread into the other marts.)
"""

from __future__ import annotations

import dataclasses
import json

import pytest

from cdp.dbt_runner import run_dbt
from cdp.generate import generate
from cdp.warehouse import Target, connect, relation_schema, resolve_target
from tests.python.raw_rows import delete_rows, insert_rows, ts
from tests.python.test_incremental import comparable_rows

TABLES = ["int_identity__record_identifiers", "int_identity__identifiers", "int_identity__record_anchors",
          "customer_events"]
SENTINEL_EVENT = "sentinel-event-name"
VISITOR = "anon-identity-incremental-0001"
SENTINEL_TIME = "1901-01-01 00:00:00"


def run(target: Target, *args: str) -> None:
    run_dbt(["run", "--select", "+customer_events", *args], target=target,
            target_path=f"target/identity-incremental-{target.type}")


def snapshot(target: Target) -> dict[str, list[tuple]]:
    schemas = {table: relation_schema(target, "marts" if table == "customer_events" else "intermediate")
               for table in TABLES}
    warehouse = connect(target)
    try:
        return {table: comparable_rows(warehouse, f"select * from {schemas[table]}.{table}") for table in TABLES}
    finally:
        warehouse.close()


def arrivals(target: Target) -> dict:
    """New page views of a visitor who logs in, an order removed, a contact's email corrected."""
    schema = relation_schema(target, "intermediate")
    warehouse = connect(target)
    try:
        user_id, = warehouse.query("select min(user_id) from raw_segment.identifies")[0]
        order_id, = warehouse.query("select cast(min(id) as varchar(40)) from raw_shop.orders")[0]
        contact_id, = warehouse.query("select min(hs_object_id) from raw_crm.contacts where email is not null")[0]
        insert_rows(warehouse, "segment", "pages", [
            {"id": f"identity-incr-page-{i}", "anonymous_id": VISITOR, "user_id": user_id if i == 2 else None,
             "timestamp": ts(f"2026-10-30 12:0{i}:00"), "received_at": ts(f"2026-10-30 12:0{i}:01"),
             "uuid_ts": ts("2026-10-30 13:00:00"), "context_library_name": "analytics.js",
             "name": "Checkout", "path": "/checkout"}
            for i in range(3)])
        delete_rows(warehouse, "shop", "orders", f"cast(id as varchar(40)) = '{order_id}'")
        warehouse.execute(f"update raw_crm.contacts set email = 'corrected.' || email "
                          f"where hs_object_id = '{contact_id}'")
        # identifiers carried by the records that changed: a sentinel must avoid them
        touched = warehouse.query(
            f"select identifier_type, identifier_value from {schema}.int_identity__record_identifiers "
            f"where (source_table = 'shop.orders' and record_id = '{order_id}') "
            f"or (source_table = 'crm.contacts' and record_id = '{contact_id}') "
            f"or identifier_value = '{user_id}'")
        # identifiers only the removed order and the corrected contact carry: gone after the build
        changed = (f"(source_table = 'shop.orders' and record_id = '{order_id}') "
                   f"or (source_table = 'crm.contacts' and record_id = '{contact_id}')")
        removed = warehouse.query(
            f"select identifier_type, identifier_value from {schema}.int_identity__record_identifiers "
            f"group by identifier_type, identifier_value "
            f"having sum(case when {changed} then 0 else 1 end) = 0")
    finally:
        warehouse.close()
    return {"order_id": order_id, "contact_id": contact_id, "touched": {tuple(row) for row in touched},
            "removed": {tuple(row) for row in removed}, "user_id": user_id}


def user_record_count(target: Target, user_id: str, add: int = 0) -> int:
    """The user id's record count in int_identity__identifiers, after adding `add` to it."""
    schema = relation_schema(target, "intermediate")
    where = f"where identifier_type = 'user_id' and identifier_value = '{user_id}'"
    warehouse = connect(target)
    try:
        if add:
            warehouse.execute(f"update {schema}.int_identity__identifiers "
                              f"set record_count = record_count + {add} {where}")
        return warehouse.query(f"select record_count from {schema}.int_identity__identifiers {where}")[0][0]
    finally:
        warehouse.close()


def user_edges(target: Target, user_id: str, add: int = 0) -> dict[tuple, int]:
    """The deterministic edges anchored on the user id: (node_b, source_table) -> record_count,
    after adding `add` to every count."""
    schema = relation_schema(target, "intermediate")
    where = (f"where match_type = 'deterministic' and node_a = (select node_id from {schema}.int_identity__identifiers "
             f"where identifier_type = 'user_id' and identifier_value = '{user_id}')")
    warehouse = connect(target)
    try:
        if add:
            warehouse.execute(f"update {schema}.int_identity__edges set record_count = record_count + {add} {where}")
        rows = warehouse.query(f"select node_b, source_table, record_count from {schema}.int_identity__edges {where}")
        return {(node_b, source_table): count for node_b, source_table, count in rows}
    finally:
        warehouse.close()


def record_identifiers(target: Target, record: tuple) -> set[tuple]:
    schema = relation_schema(target, "intermediate")
    warehouse = connect(target)
    try:
        return {tuple(row) for row in warehouse.query(
            f"select identifier_type, identifier_value from {schema}.int_identity__record_identifiers "
            f"where source_table = '{record[0]}' and record_id = '{record[1]}'")}
    finally:
        warehouse.close()


def visitor_node(target: Target) -> int:
    schema = relation_schema(target, "intermediate")
    warehouse = connect(target)
    try:
        return warehouse.query(f"select node_id from {schema}.int_identity__identifiers "
                               f"where identifier_type = 'anonymous_id' and identifier_value = '{VISITOR}'")[0][0]
    finally:
        warehouse.close()


def mark_sentinels(target: Target, touched: set[tuple]) -> tuple[tuple, tuple]:
    """Mark rows no arrival touches (a record's identifiers, anchor and event, an identifier);
    returns the record's and the identifier's keys."""
    schema = relation_schema(target, "intermediate")
    warehouse = connect(target)
    try:
        # customers of the touched identifiers: their events may move, the sentinel's must not
        touched_customers = {customer for customer, in warehouse.query(
            f"select distinct ids.customer_id from {schema}.int_identity__customer_ids as ids "
            f"inner join {schema}.int_identity__record_identifiers as records "
            f"on ids.identifier_type = records.identifier_type and ids.identifier_value = records.identifier_value "
            f"where " + " or ".join(f"(records.identifier_type = '{t}' and records.identifier_value = '{v}')"
                                    for t, v in sorted(touched)))}
        # (an unblocked value: blocklist values are computed again each build, their block may have ended)
        candidates = warehouse.query(
            f"select records.source_table, records.record_id, records.identifier_type, records.identifier_value, "
            f"resolved.customer_id from {schema}.int_identity__record_identifiers as records "
            f"inner join {schema}.int_identity__identifiers as identifiers "
            f"on records.identifier_type = identifiers.identifier_type "
            f"and records.identifier_value = identifiers.identifier_value "
            f"inner join {schema}.int_identity__records_resolved as resolved "
            f"on records.source_table = resolved.source_table and records.record_id = resolved.record_id "
            f"where records.source_table = 'email.email_events' and not identifiers.is_blocked "
            f"order by records.record_id limit 500")
        source_table, record_id, identifier_type, identifier_value = next(
            row[:4] for row in candidates if (row[2], row[3]) not in touched and row[4] not in touched_customers)
        warehouse.execute(f"update {schema}.int_identity__record_identifiers "
                          f"set observed_at = cast('{SENTINEL_TIME}' as timestamp) "
                          f"where source_table = '{source_table}' and record_id = '{record_id}'")
        warehouse.execute(f"update {schema}.int_identity__record_anchors set anchor_node_id = -7 "
                          f"where source_table = '{source_table}' and record_id = '{record_id}'")
        warehouse.execute(f"update {relation_schema(target, 'marts')}.customer_events "
                          f"set event_name = '{SENTINEL_EVENT}' "
                          f"where source_table = '{source_table}' and record_id = '{record_id}'")
        warehouse.execute(f"update {schema}.int_identity__identifiers set record_count = -7 "
                          f"where identifier_type = '{identifier_type}' and identifier_value = '{identifier_value}'")
    finally:
        warehouse.close()
    return (source_table, record_id), (identifier_type, identifier_value)


def mark_block_reasons(target: Target, avoid: set[tuple]) -> dict[str, tuple]:
    """Tamper with kept rows of int_identity__identifiers that no arrival touches: a value blocked
    by shared values gets a sentinel record count (it must be kept: nothing about it changed),
    another loses its reason (shared values still give it: it must come back) and an unblocked
    value gets a reason shared values do not give (it must go). Returns each one's key."""
    schema = relation_schema(target, "intermediate")
    warehouse = connect(target)
    try:
        shared = [tuple(row) for row in warehouse.query(
            f"select identifiers.identifier_type, identifiers.identifier_value, identifiers.block_reason "
            f"from {schema}.int_identity__identifiers as identifiers "
            f"inner join {schema}.int_matching__shared_values as shared "
            f"on identifiers.identifier_type = shared.identifier_type "
            f"and identifiers.identifier_value = shared.identifier_value "
            f"and identifiers.block_reason = shared.block_reason "
            f"order by 1, 2") if tuple(row[:2]) not in avoid]
        unblocked = [tuple(row) for row in warehouse.query(
            f"select identifier_type, identifier_value from {schema}.int_identity__identifiers "
            f"where not is_blocked and identifier_type = 'email' order by 2 limit 50") if tuple(row) not in avoid]
        assert len(shared) >= 2 and unblocked, "the world needs two values blocked by shared values"
        kept, restored, cleared = shared[0], shared[1], unblocked[0]

        def where(key: tuple) -> str:
            return f"where identifier_type = '{key[0]}' and identifier_value = '{key[1]}'"

        warehouse.execute(f"update {schema}.int_identity__identifiers set record_count = -7 {where(kept)}")
        warehouse.execute(f"update {schema}.int_identity__identifiers "
                          f"set block_reason = null, is_blocked = false {where(restored)}")
        warehouse.execute(f"update {schema}.int_identity__identifiers "
                          f"set block_reason = 'too_many_people', is_blocked = true {where(cleared)}")
    finally:
        warehouse.close()
    return {"kept": kept, "restored": restored, "cleared": cleared}


def sentinels_kept(target: Target, record: tuple, identifier: tuple) -> tuple[bool, bool, bool, bool]:
    """Whether each marked row is still there: record identifiers, identifier, anchor, event."""
    tables = snapshot(target)
    record_kept = any(row[:2] == record and str(row[4]).startswith("1901") for row in tables[TABLES[0]])
    identifier_kept = any(row[1:3] == identifier and -7 in row for row in tables[TABLES[1]])
    anchor_kept = any(row[:2] == record and row[3] == -7 for row in tables[TABLES[2]])
    event_kept = any(row[-2:] == record and SENTINEL_EVENT in row for row in tables[TABLES[3]])
    return record_kept, identifier_kept, anchor_kept, event_kept


def scenario(target: Target) -> dict:
    generate(customers=300, seed=41, target=target, progress=False)
    run_dbt(["seed"], target=target, target_path=f"target/identity-incremental-{target.type}")
    run(target)
    facts = arrivals(target)
    record, identifier = mark_sentinels(target, facts["touched"])
    blocks = mark_block_reasons(target, facts["touched"] | {identifier} | record_identifiers(target, record))
    # the user id only gains a page view: its statistics are merged, not computed again, so an
    # offset added to its kept count survives (plus the one new record)
    marked_count = user_record_count(target, facts["user_id"], add=1000)
    # the user's anchor only gains a record: its kept edges are merged into, not computed again
    marked_edges = user_edges(target, facts["user_id"], add=1000)
    # the warehouse file is moved and renamed (DuckDB names the database after its file): not a
    # change of SQL, so the incremental state holds
    target = dataclasses.replace(target, duckdb_path=target.duckdb_path.rename(
        target.duckdb_path.with_name("renamed.duckdb")))
    run(target)
    incremental = snapshot(target)
    kept = sentinels_kept(target, record, identifier)
    merged_count = user_record_count(target, facts["user_id"])
    merged_edges = user_edges(target, facts["user_id"])
    visitor = visitor_node(target)
    block_rows = {name: [row for row in incremental[TABLES[1]] if row[1:3] == key[:2]] for name, key in blocks.items()}
    # a changed SQL (here: the identifier priority, phone before email) computes every row again
    run(target, "--vars", json.dumps({"identity_identifier_priority": [
        "user_id", "crm_contact_id", "shop_customer_id", "phone", "email", "loyalty_id", "pos_card_token",
        "support_requester_id", "device_id", "advertising_id", "anonymous_id", "click_id", "person_profile"]}))
    return {"facts": facts, "incremental": incremental, "kept": kept, "marked_count": marked_count,
            "merged_count": merged_count, "kept_after_sql_change": sentinels_kept(target, record, identifier),
            "count_after_sql_change": user_record_count(target, facts["user_id"]),
            "blocks": blocks, "block_rows": block_rows,
            "marked_edges": marked_edges, "merged_edges": merged_edges, "visitor_node": visitor,
            "edges_after_sql_change": user_edges(target, facts["user_id"])}


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> dict:
    target = dataclasses.replace(resolve_target("dev"),
                                 duckdb_path=tmp_path_factory.mktemp("identity") / "cdp.duckdb")
    return scenario(target)


@pytest.mark.slow
def test_the_changes_reached_both_tables(outcome: dict):
    records, identifiers = outcome["incremental"][TABLES[0]], outcome["incremental"][TABLES[1]]
    assert not [row for row in records if row[:2] == ("shop.orders", outcome["facts"]["order_id"])]
    contact_emails = [row[3] for row in records
                      if row[:3] == ("crm.contacts", outcome["facts"]["contact_id"], "email")]
    assert contact_emails and all(email.startswith("corrected.") for email in contact_emails)
    visitor = [row for row in identifiers if row[1:3] == ("anonymous_id", VISITOR)]
    assert visitor and visitor[0][6] == 3  # record_count: its three page views
    # what only the removed order and the contact's old values carried is gone from the nodes
    still_carried = {row[2:4] for row in records if row[:2] == ("crm.contacts", outcome["facts"]["contact_id"])}
    gone = outcome["facts"]["removed"] - still_carried
    assert gone
    assert not [row for row in identifiers if row[1:3] in gone]


@pytest.mark.slow
def test_untouched_rows_are_kept_not_computed_again(outcome: dict):
    assert outcome["kept"] == (True, True, True, True)


@pytest.mark.slow
def test_a_changed_sql_computes_every_row_of_that_table(outcome: dict):
    # the identifier priority is part of int_identity__identifiers' SQL, not of the record rows';
    # identifiers computed in full make every anchor, and so every event, be computed again
    assert outcome["kept_after_sql_change"] == (True, False, False, False)


@pytest.mark.slow
def test_an_identifier_that_only_gained_records_is_merged(outcome: dict):
    assert outcome["merged_count"] == outcome["marked_count"] + 1
    # computed from its records when the SQL changed: the offset is gone, the new record counted
    assert outcome["count_after_sql_change"] == outcome["marked_count"] - 1000 + 1


@pytest.mark.slow
def test_an_anchor_that_only_gained_records_keeps_its_edges_and_gains_the_new_one(outcome: dict):
    marked, merged = outcome["marked_edges"], outcome["merged_edges"]
    assert marked and all(count > 1000 for count in marked.values())
    # the kept edges keep their offset (merged into, not computed again) ...
    assert {key: merged[key] for key in marked} == marked
    # ... and the page view the user logged in on links the visitor's browser to the user
    assert merged[(outcome["visitor_node"], "segment.pages")] == 1
    # computed from the records when the SQL changed: the offsets are gone
    after = outcome["edges_after_sql_change"]
    assert set(after) == set(merged) and all(after[key] == marked[key] - 1000 for key in marked)


@pytest.mark.slow
def test_a_value_blocked_by_shared_values_is_kept_while_its_reason_stands(outcome: dict):
    # no record of the value changed and shared values give the kept reason: not computed again
    kept = outcome["block_rows"]["kept"]
    assert kept and kept[0][6] == -7 and kept[0][-2:] == (outcome["blocks"]["kept"][2], True)


@pytest.mark.slow
def test_a_kept_block_reason_follows_shared_values_without_a_record_changing(outcome: dict):
    # a reason shared values give that the kept row lost comes back; one they do not give goes
    restored, cleared = outcome["block_rows"]["restored"], outcome["block_rows"]["cleared"]
    assert restored and restored[0][-2:] == (outcome["blocks"]["restored"][2], True) and restored[0][6] > 0
    assert cleared and cleared[0][-2:] == (None, False)
