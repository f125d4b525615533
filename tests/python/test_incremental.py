"""An incremental build gives the same marts as a full refresh, row by row, on both warehouses.

A small generated world is built once; then new events, a late event from months ago, an
anonymous visitor who finally logs in (their earlier page views must move to their customer),
a returning customer's new page views, order and email event (their features are updated from
those events alone), a corrected source record, a removed one, a new consent statement and a
deletion request arrive. An incremental build absorbs them; its marts are snapshotted and compared, row by
row, with the marts of a full refresh of the same data. Both builds run as of the same moment
(vars features_as_of and audiences_run_at), so time-dependent columns agree by construction.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterator
from decimal import Decimal

import pytest

from cdp.contract import load_contract
from cdp.dbt_runner import run_dbt
from cdp.generate import generate
from cdp.warehouse import Target, connect, relation_schema, resolve_target
from tests.python.conftest import throwaway_pg_target
from tests.python.raw_rows import delete_rows, insert_rows, ts

AS_OF = "2026-11-01 00:00:00"
VARS = json.dumps({"features_as_of": AS_OF, "audiences_run_at": AS_OF})
VISITOR = "anon-incremental-visitor-0001"
# Marts whose rows depend only on the data (logs of each run and run-time stamps aside).
COMPARED_MARTS = [
    "customers", "customer_events", "customer_features", "customer_identifiers", "customer_consent",
    "customer_deletions", "crm_hubspot_contacts",
]
# Incremental base models behind the staged ones that received the arrivals (a new record, a late
# one, a record changed in place, a record removed): staged, rejected and every copy alike.
COMPARED_BASES = [
    "base_segment__pages", "base_segment__identifies", "base_shop__orders", "base_consent__events",
    "base_consent__deletion_requests",
]
# Intermediate models built record by record (their own change tracking, not a mart's).
COMPARED_INTERMEDIATES = ["int_identity__record_identifiers", "int_identity__identifiers", "int_identity__edges",
                          "int_identity__record_anchors", "int_identity__records_resolved", "int_events__unioned",
                          "int_matching__record_profiles", "int_identity__deterministic_components",
                          "int_identity__components", "int_identity__customer_id_resolution"]
# Columns that say when a row was written, not what it holds.
BOOKKEEPING_COLUMNS = {"_staged_at"}
# Columns that describe a build's change: the full refresh compared with starts from the ids the
# incremental build left in the map, so it reports no change where the incremental build did.
BUILD_CHANGE_COLUMNS = {"int_identity__customer_id_resolution": {"previous_customer_id", "change_type", "resolved_at"}}


def build(target: Target, tests: bool = True, full_refresh: bool = False) -> None:
    """The incremental build runs every model and test; the first build and the full refresh it
    is compared with need the seeds and models only."""
    command = ["build", *([] if tests else ["--resource-type", "seed", "--resource-type", "model"]),
               *(["--full-refresh"] if full_refresh else [])]
    run_dbt([*command, "--vars", VARS], target=target, target_path=f"target/incremental-{target.type}")


def pick(target: Target, sql: str) -> tuple:
    warehouse = connect(target)
    try:
        rows = warehouse.query(sql)
    finally:
        warehouse.close()
    assert rows, sql
    return rows[0]


def visitor_pages() -> list[dict]:
    return [
        {"id": f"incr-anon-page-{i}", "anonymous_id": VISITOR, "timestamp": ts(f"2026-09-0{i + 1} 08:00:00"),
         "received_at": ts(f"2026-09-0{i + 1} 08:00:02"), "uuid_ts": ts(f"2026-09-0{i + 1} 09:00:00"),
         "context_library_name": "analytics.js", "name": "Pricing", "path": "/pricing"}
        for i in range(3)
    ]


def arrivals(target: Target) -> dict:
    """What arrives between the first build and the incremental one; returns what the test checks."""
    marts = relation_schema(target, "marts")
    user_id, = pick(target, "select user_id from raw_segment.identifies where user_id is not null "
                            "order by user_id limit 1")
    order_id, = pick(target, "select cast(id as varchar(40)) from raw_shop.orders order by id limit 1")
    corrected_id, = pick(target, "select cast(id as varchar(40)) from raw_shop.orders order by id desc limit 1")
    forgotten_email, = pick(target, f"select email from {marts}.customers where email is not null "
                                    "and order_count > 0 order by customer_id limit 1")
    # a browser already tied to one user that another user logs in on: its anonymous id becomes
    # shared across user ids (blocked), so the records it anchored must find another anchor
    shared_anonymous_id, its_user_id = pick(
        target, f"select pages.anonymous_id, min(pages.user_id) from raw_segment.pages as pages "
                f"inner join {relation_schema(target, 'intermediate')}.int_identity__identifiers as nodes "
                f"on nodes.identifier_type = 'anonymous_id' and nodes.identifier_value = pages.anonymous_id "
                f"where not nodes.is_blocked and pages.user_id is not null and pages.user_id <> '{user_id}' "
                f"group by pages.anonymous_id order by pages.anonymous_id limit 1")
    other_user_id, = pick(target, f"select max(user_id) from raw_segment.identifies where user_id <> '{its_user_id}'")
    warehouse = connect(target)
    try:
        insert_rows(warehouse, "segment", "identifies", [{
            "id": "incr-visitor-logs-in", "anonymous_id": VISITOR, "user_id": user_id,
            "timestamp": ts("2026-10-30 12:00:00"), "received_at": ts("2026-10-30 12:00:01"),
            "uuid_ts": ts("2026-10-30 13:00:00"), "context_library_name": "analytics.js"}])
        insert_rows(warehouse, "segment", "pages", [
            {"id": f"incr-new-page-{i}", "anonymous_id": VISITOR, "user_id": user_id,
             "timestamp": ts(f"2026-10-30 12:0{i}:00"), "received_at": ts(f"2026-10-30 12:0{i}:01"),
             "uuid_ts": ts("2026-10-30 13:00:00"), "context_library_name": "analytics.js",
             "name": "Checkout", "path": "/checkout"}
            for i in range(1, 4)
        ] + [
            # a late event: it happened in the spring and reaches the warehouse only now
            {"id": "incr-late-page", "anonymous_id": VISITOR, "user_id": user_id,
             "timestamp": ts("2026-04-02 10:00:00"), "received_at": ts("2026-10-30 12:30:00"),
             "uuid_ts": ts("2026-10-30 13:00:00"), "context_library_name": "analytics.js",
             "name": "Home", "path": "/"}])
        insert_rows(warehouse, "segment", "identifies", [{
            "id": "incr-shared-browser", "anonymous_id": shared_anonymous_id, "user_id": other_user_id,
            "timestamp": ts("2026-10-30 14:00:00"), "received_at": ts("2026-10-30 14:00:01"),
            "uuid_ts": ts("2026-10-30 15:00:00"), "context_library_name": "analytics.js"}])
        insert_rows(warehouse, "consent", "deletion_requests", [{
            "request_id": "DSR-INCREMENTAL-1", "email": forgotten_email, "requested_at": "2026-10-30T10:00:00Z",
            "status": "received", "_loaded_at": ts("2026-10-30 11:00:00")}])
        insert_rows(warehouse, "consent", "consent_events", [{
            "event_id": "incr-consent-1", "subject_type": "user_id", "subject_value": user_id, "purpose": "sms",
            "status": "denied", "source": "preference_center", "occurred_at": "2026-10-30T12:10:00+00:00",
            "_loaded_at": ts("2026-10-30 13:00:00")}])
        delete_rows(warehouse, "shop", "orders", f"cast(id as varchar(40)) = '{order_id}'")
        warehouse.execute(f"update raw_shop.orders set total_price = total_price + 1 "
                          f"where cast(id as varchar(40)) = '{corrected_id}'")
    finally:
        warehouse.close()
    return {"user_id": user_id, "order_id": order_id, "forgotten_email": forgotten_email,
            "shared_anonymous_id": shared_anonymous_id, "other_user_ids": [its_user_id, other_user_id]}


def copy_raw_rows(warehouse, source: str, table: str, where: str, changes: dict[str, str]) -> None:
    """Insert copies of a raw table's rows matching `where`, columns in `changes` set by SQL."""
    raw = load_contract()[source][table]
    relation = f'"{raw.schema}"."{raw.identifier}"'
    columns = ", ".join(f'{changes[c.name]} as "{c.name}"' if c.name in changes else f'"{c.name}"'
                        for c in raw.columns)
    warehouse.execute(f"insert into {relation} select {columns} from {relation} where {where}")


def returning_customer_arrives(target: Target, facts: dict) -> str:
    """A customer no other arrival touches gets page views around one of theirs (within and
    before its session) and months earlier, a second copy of an order of theirs (with its
    lines) and of an email event: only events added, so the incremental build updates their
    features from those events alone. Their devices count in int_scoring__features_current is
    marked (+1000) beforehand: a row computed again would lose the mark, a merged one keeps
    it (the comparison with a full refresh covers customer_features). Returns the customer."""
    marts, intermediate = relation_schema(target, "marts"), relation_schema(target, "intermediate")
    warehouse = connect(target)
    try:
        touched = {row[0] for row in warehouse.query(
            f"select customer_id from {intermediate}.int_identity__customer_ids "
            f"where identifier_type = 'user_id' and identifier_value in "
            f"('{facts['user_id']}', '{facts['other_user_ids'][0]}', '{facts['other_user_ids'][1]}') "
            f"or identifier_type = 'anonymous_id' and identifier_value = '{facts['shared_anonymous_id']}' "
            f"union select customer_id from {marts}.customer_events "
            f"where source_table = 'shop.orders' and record_id in "
            f"(select cast(max(id) as varchar(40)) from raw_shop.orders union select '{facts['order_id']}') "
            f"union select customer_id from {marts}.customers "
            f"where lower(email) = lower('{facts['forgotten_email']}')")}
        candidates = warehouse.query(
            f"select customer_id, min(case when source_table = 'segment.pages' then record_id end), "
            f"min(case when source_table = 'shop.orders' then record_id end), "
            f"min(case when source_table = 'email.email_events' then record_id end) "
            f"from {marts}.customer_events where customer_id is not null group by customer_id "
            f"having count(case when source_table = 'segment.pages' then 1 end) > 1 "
            f"and count(case when source_table = 'shop.orders' then 1 end) > 0 "
            f"and count(case when source_table = 'email.email_events' then 1 end) > 0 order by customer_id")
        customer_id, page_id, order_id, email_event_id = next(row for row in candidates if row[0] not in touched)
        for suffix, shift in [("within", "+ interval '10 minutes'"), ("before", "- interval '20 minutes'"),
                              ("months-earlier", "- interval '100 days'")]:
            copy_raw_rows(warehouse, "segment", "pages", f"id = '{page_id}'", {
                "id": f"id || '-returning-{suffix}'",
                **{column: f'"{column}" {shift}' for column in ["timestamp", "original_timestamp", "sent_at",
                                                               "received_at"]}})
        copy_raw_rows(warehouse, "shop", "order_lines", f"order_id = {order_id}",
                      {"id": "id + 900000000", "order_id": "order_id + 900000000"})
        copy_raw_rows(warehouse, "shop", "orders", f"id = {order_id}", {
            "id": "id + 900000000", "name": "name || '-again'",
            **{column: f"{column} + interval '3 days'" for column in ["created_at", "processed_at"]}})
        copy_raw_rows(warehouse, "email", "email_events", f"event_id = '{email_event_id}'",
                      {"event_id": "event_id || '-returning'"})
        warehouse.execute(f"update {intermediate}.int_scoring__features_current set devices = devices + 1000 "
                          f"where customer_id = '{customer_id}'")
    finally:
        warehouse.close()
    return customer_id


def snapshot(target: Target) -> dict[str, list[tuple]]:
    marts = relation_schema(target, "marts")
    warehouse = connect(target)
    try:
        tables = {}
        staging = relation_schema(target, "staging")
        intermediate = relation_schema(target, "intermediate")
        for schema, relations in ((marts, COMPARED_MARTS), (staging, COMPARED_BASES),
                                  (intermediate, COMPARED_INTERMEDIATES)):
            for relation in relations:
                columns = [name for name, in warehouse.query(
                    f"select column_name from information_schema.columns where table_schema = '{schema}' "
                    f"and table_name = '{relation}' order by ordinal_position")
                    if name not in BOOKKEEPING_COLUMNS | BUILD_CHANGE_COLUMNS.get(relation, set())]
                assert columns, f"{schema}.{relation} not found"
                tables[relation] = comparable_rows(warehouse, f"select {', '.join(columns)} from {schema}.{relation}")
        return tables
    finally:
        warehouse.close()


def _comparable(value):
    if isinstance(value, float | Decimal):
        value = float(value)
        return None if math.isnan(value) else round(value, 6)
    return value


def comparable_rows(warehouse, sql: str) -> list[tuple]:
    """The rows of a query, floats rounded, sorted: what two builds' tables are compared as."""
    return sorted((tuple(_comparable(v) for v in row) for row in warehouse.query(sql)), key=repr)


def assert_same_rows(incremental: list[tuple], full: list[tuple], label: object) -> None:
    """An incremental build's rows are a full refresh's, no more, no fewer."""
    full_rows, incremental_rows = set(full), set(incremental)
    only_incremental = [row for row in incremental if row not in full_rows]
    only_full = [row for row in full if row not in incremental_rows]
    assert not only_incremental and not only_full, (label, only_incremental[:3], only_full[:3])
    assert len(incremental) == len(full), label


def resolution_builds(target: Target) -> list[tuple]:
    """Rows of the customer id resolution per build that decided them (oldest first)."""
    warehouse = connect(target)
    try:
        return warehouse.query(f"select resolved_at, count(*) from {relation_schema(target, 'intermediate')}"
                               f".int_identity__customer_id_resolution group by resolved_at order by resolved_at")
    finally:
        warehouse.close()


def scenario(target: Target) -> dict:
    generate(customers=300, seed=31, target=target, progress=False)
    warehouse = connect(target)
    try:
        insert_rows(warehouse, "segment", "pages", visitor_pages())
    finally:
        warehouse.close()
    build(target, tests=False)
    before = pick(target, f"select count(*), count(distinct customer_id) from {relation_schema(target, 'marts')}"
                          f".customer_events where record_id like 'incr-anon-page-%'")
    facts = arrivals(target)
    facts["returning_customer"] = returning_customer_arrives(target, facts)
    build(target)
    facts["returning_devices"], = pick(target, f"select devices from {relation_schema(target, 'intermediate')}"
                                               f".int_scoring__features_current "
                                               f"where customer_id = '{facts['returning_customer']}'")
    incremental = snapshot(target)
    facts["resolution_builds"] = resolution_builds(target)
    build(target, tests=False, full_refresh=True)
    return {"facts": facts, "before": before, "incremental": incremental, "full_refresh": snapshot(target)}


@pytest.fixture(scope="module")
def duckdb_scenario(tmp_path_factory: pytest.TempPathFactory) -> dict:
    target = dataclasses.replace(resolve_target("dev"),
                                 duckdb_path=tmp_path_factory.mktemp("incremental") / "cdp.duckdb")
    return {"target": target, **scenario(target)}


@pytest.fixture(scope="module")
def postgres_scenario() -> Iterator[dict]:
    with throwaway_pg_target("cdp_incr") as target:
        yield {"target": target, **scenario(target)}


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def outcome(request: pytest.FixtureRequest) -> dict:
    return request.getfixturevalue(f"{request.param}_scenario")


@pytest.mark.slow
@pytest.mark.parametrize("mart", COMPARED_MARTS + COMPARED_BASES + COMPARED_INTERMEDIATES)
def test_incremental_build_equals_full_refresh_row_by_row(outcome: dict, mart: str):
    incremental, full = outcome["incremental"][mart], outcome["full_refresh"][mart]
    assert incremental, f"{mart} is empty"
    assert_same_rows(incremental, full, mart)


@pytest.mark.slow
def test_incremental_build_decides_only_the_changed_clusters_again(outcome: dict):
    # the first build decided every cluster; the incremental one only those its arrivals changed
    builds = outcome["facts"]["resolution_builds"]
    assert len(builds) == 2, builds
    (_, untouched), (_, decided) = builds
    assert 0 < decided < untouched / 10, builds


def _events(target: Target, where: str) -> list[tuple]:
    warehouse = connect(target)
    try:
        return warehouse.query(f"select record_id, customer_id from {relation_schema(target, 'marts')}"
                               f".customer_events where {where}")
    finally:
        warehouse.close()


@pytest.mark.slow
def test_incremental_build_reattributes_late_and_anonymous_history(outcome: dict):
    target = outcome["target"]
    anonymous_pages, anonymous_customers = outcome["before"]
    assert (anonymous_pages, anonymous_customers) == (3, 1)  # one anonymous visitor before login
    rows = {t[0]: t for t in outcome["incremental"]["customer_events"] if t[0] is not None}
    user_customer = pick(target, f"select customer_id from {relation_schema(target, 'intermediate')}"
                                 f".int_identity__customer_ids where identifier_type = 'user_id' "
                                 f"and identifier_value = '{outcome['facts']['user_id']}'")[0]
    for record in ["incr-anon-page-0", "incr-anon-page-1", "incr-anon-page-2", "incr-late-page",
                   "incr-new-page-1", "incr-visitor-logs-in"]:
        source = "segment.identifies" if record == "incr-visitor-logs-in" else "segment.pages"
        assert rows[f"{source}:{record}"][1] == user_customer, record
    assert f"shop.orders:{outcome['facts']['order_id']}" not in rows  # the removed order left the stream


@pytest.mark.slow
def test_incremental_build_updates_a_returning_customers_features_from_their_new_events(outcome: dict):
    target = outcome["target"]
    customer_id = outcome["facts"]["returning_customer"]
    added = pick(target, f"select count(*) from {relation_schema(target, 'marts')}.customer_events "
                         f"where customer_id = '{customer_id}' and record_id like '%-returning%'")
    assert added == (4,)  # three page views and an email event; the order's key is numeric
    # read right after the incremental build (the full refresh rebuilt the table since)
    assert outcome["facts"]["returning_devices"] >= 1000, "their features were computed again, not merged"


@pytest.mark.slow
def test_incremental_build_forgets_a_deleted_person_and_records_new_consent(outcome: dict):
    target = outcome["target"]
    marts = relation_schema(target, "marts")
    email = outcome["facts"]["forgotten_email"].lower()
    forgotten = {row[0] for row in outcome["incremental"]["customer_deletions"]
                 if row[1] == "email" and str(row[2]).lower() == email}
    assert forgotten, "the deletion request resolved to no customer"
    assert not any(row[1] in forgotten for row in outcome["incremental"]["customer_events"])
    assert not any(row[0] in forgotten for row in outcome["incremental"]["customers"])
    ids = f"{relation_schema(target, 'intermediate')}.int_identity__customer_ids"
    user_id = outcome["facts"]["user_id"]
    consent = pick(target, f"select consent_status from {marts}.customer_consent where purpose = 'sms' "
                           f"and customer_id = (select customer_id from {ids} "
                           f"where identifier_type = 'user_id' and identifier_value = '{user_id}')")
    assert consent == ("denied",)


@pytest.mark.slow
def test_incremental_build_blocks_a_browser_two_users_share(outcome: dict):
    # its records must then anchor elsewhere: test_incremental_build_equals_full_refresh_row_by_row
    # checks int_identity__record_anchors and customer_events against a full refresh
    shared = outcome["facts"]["shared_anonymous_id"]
    nodes = [row for row in outcome["incremental"]["int_identity__identifiers"] if row[1:3] == ("anonymous_id", shared)]
    assert nodes and "shared_across_user_id" in nodes[0] and nodes[0][-1] is True
