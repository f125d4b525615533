"""The sync engine: definitions and their validation, the SQL diff against the state table,
consent and invalid keys, suppression of deleted people, run logs; on DuckDB and Postgres.

Each test builds a small hand-made world (a sync model, customer_consent, customer_deletions)
in its own DuckDB file or Postgres database, so it never touches the session's built worlds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cdp.sync import state
from cdp.sync.config import load_syncs, parse_sync
from cdp.sync.destinations.base import Record
from cdp.sync.destinations.hubspot import HubSpotContacts, HubSpotSettings
from cdp.sync.engine import RunOptions, RunSummary, run_sync
from cdp.warehouse import PROJECT_DIR, ConfigError, Target, Warehouse, connect, resolve_target
from tests.python.conftest import throwaway_pg_target
from tests.servers.hubspot_server import HubSpotServer

MODEL_SCHEMA = "cdp_marts"
SYNC_SCHEMA = "cdp_sync"


# -- a hand-made world -------------------------------------------------------------------------

def make_world(wh: Warehouse, rows: int = 500, schema: str = MODEL_SCHEMA) -> None:
    """Contacts c0..c{rows-1}: every 10th denied email consent, every 7th unknown; c3 and c4 asked to
    be deleted (c3 still in the model, as if it reappeared); one null and one duplicated email."""
    series = ("select cast(i as integer) as i from range({n}) as t(i)" if wh.target.type == "duckdb"
              else "select i from generate_series(0, {n} - 1) as t(i)")
    wh.execute(f'create schema if not exists "{schema}"')
    wh.execute(f'drop table if exists "{schema}".crm_hubspot_contacts')
    wh.execute(f"""
        create table "{schema}".crm_hubspot_contacts as
        select
            cast('user' || cast(i as varchar) || '@example.com' as varchar) as email,
            cast('c' || cast(i as varchar) as varchar) as cdp_customer_id,
            cast('First' || cast(i as varchar) as varchar) as firstname,
            cast('Last' as varchar) as lastname,
            cast(case when i % 3 = 0 then null else '+4477009' || cast(i as varchar) end as varchar) as phone,
            cast(i % 7 as bigint) as cdp_order_count,
            cast(i * 1.5 as numeric(38, 6)) as cdp_total_revenue,
            cast(case when i % 5 = 0 then null else date '2025-01-01' end as date) as cdp_last_order_date,
            cast(date '2024-01-01' as date) as cdp_first_seen_date,
            cast(case when i % 4 = 0 then null else (i % 100) / 100.0 end as double precision) as cdp_churn_score,
            cast((i % 10) / 10.0 as double precision) as cdp_purchase_propensity,
            cast(i * 2.5 as double precision) as cdp_lifetime_value
        from ({series.format(n=rows)}) as s
    """)
    wh.execute(f"""insert into "{schema}".crm_hubspot_contacts values
        (null, 'cnull', 'No', 'Email', null, 0, 0, null, null, null, null, null),
        ('twice@example.com', 'ctw1', 'A', 'B', null, 0, 0, null, null, null, null, null),
        ('twice@example.com', 'ctw2', 'C', 'D', null, 0, 0, null, null, null, null, null)""")
    wh.execute(f'drop table if exists "{schema}".customer_consent')
    wh.execute(f"""
        create table "{schema}".customer_consent as
        select cdp_customer_id as customer_id, cast('email' as varchar) as purpose,
            cast(case when cdp_customer_id like '%0' then 'denied'
                      when cdp_customer_id like '%7' then 'unknown' else 'granted' end as varchar) as consent_status
        from "{schema}".crm_hubspot_contacts where cdp_customer_id is not null
    """)
    wh.execute(f'drop table if exists "{schema}".customer_deletions')
    wh.execute(f"""
        create table "{schema}".customer_deletions (customer_id varchar, identifier_type varchar,
            identifier_value varchar)""")
    wh.execute(f"""insert into "{schema}".customer_deletions values
        ('c3', 'email', 'user3@example.com'), ('c4', 'email', 'user4@example.com'),
        ('c4', 'phone', '+447700904'), ('cgone', 'email', 'gone@example.com')""")


def desired(wh: Warehouse, schema: str = MODEL_SCHEMA) -> dict[str, dict[str, str]]:
    """What HubSpot must hold: valid, consented, not deleted rows, as HubSpot stores them (text)."""
    rows = wh.query(f"""
        select m.email, m.firstname, m.cdp_customer_id from "{schema}".crm_hubspot_contacts as m
        inner join "{schema}".customer_consent as c on c.customer_id = m.cdp_customer_id
            and c.purpose = 'email' and c.consent_status = 'granted'
        where m.email is not null and m.email not in (
            select email from "{schema}".crm_hubspot_contacts group by email having count(*) > 1)
        and m.cdp_customer_id not in (select customer_id from "{schema}".customer_deletions)
        and m.email not in (select identifier_value from "{schema}".customer_deletions)
    """)
    return {email: {"firstname": first, "cdp_customer_id": cid} for email, first, cid in rows}


def hubspot_sync(**changes):
    sync = load_syncs().get("hubspot")
    return dataclasses.replace(sync, **changes)


def destination_factory(server: HubSpotServer, **settings) -> Callable:
    values = {"access_token": server.token, "api_base": server.url, "timeout": 2.0, "backoff_base": 0.05,
              "backoff_max": 0.2, **settings}

    def factory(sync):
        return HubSpotContacts(HubSpotSettings(**values), unique_properties=[] if sync.match_field == "email"
                               else [sync.match_field])

    return factory


def options(**changes) -> RunOptions:
    return RunOptions(model_schema=MODEL_SCHEMA, sync_schema=SYNC_SCHEMA, progress=False, **changes)


def run(wh: Warehouse, server: HubSpotServer, sync=None, factory=None, **opts) -> RunSummary:
    return run_sync(wh, sync or hubspot_sync(), options(**opts), factory or destination_factory(server))


def assert_server_holds_exactly(server: HubSpotServer, wh: Warehouse) -> None:
    held = server.contacts_by_email()
    want = desired(wh)
    assert set(held) == set(want), (sorted(set(held) - set(want))[:5], sorted(set(want) - set(held))[:5])
    for email, props in want.items():
        assert held[email]["firstname"] == props["firstname"], email
        assert held[email]["cdp_customer_id"] == props["cdp_customer_id"], email
    # one creation per contact: nothing duplicated, no deleted person re-created
    assert server.created_total == len(want)
    assert {"user3@example.com", "user4@example.com", "gone@example.com"} <= server.blocked_emails


# -- fixtures ----------------------------------------------------------------------------------

@pytest.fixture
def duckdb_wh(tmp_path: Path) -> Iterator[Warehouse]:
    target = dataclasses.replace(resolve_target("dev"), duckdb_path=tmp_path / "sync.duckdb")
    wh = connect(target)
    yield wh
    wh.close()


@pytest.fixture(scope="module")
def pg_sync_target() -> Iterator[Target]:
    with throwaway_pg_target("cdp_sync_test") as target:
        yield target


@pytest.fixture(params=["duckdb", "postgres"])
def any_wh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    if request.param == "postgres":
        request.applymarker(pytest.mark.postgres)
        target = request.getfixturevalue("pg_sync_target")
        wh = connect(target)
        for schema in (MODEL_SCHEMA, SYNC_SCHEMA):
            wh.execute(f'drop schema if exists "{schema}" cascade')
    else:
        wh = connect(dataclasses.replace(resolve_target("dev"), duckdb_path=tmp_path / "sync.duckdb"))
    yield wh
    wh.close()


@pytest.fixture
def server() -> Iterator[HubSpotServer]:
    with HubSpotServer(rate_limit_max=200, rate_limit_interval=1.0) as srv:
        yield srv


# -- definitions ---------------------------------------------------------------------------------

def test_project_syncs_file_defines_hubspot_and_salesforce():
    syncs = load_syncs()
    hubspot, salesforce = syncs.get("hubspot"), syncs.get("salesforce")
    assert (hubspot.model, hubspot.match_column, hubspot.match_field) == ("crm_hubspot_contacts", "email", "email")
    assert hubspot.consent is not None and hubspot.consent.purpose == "email"
    assert (salesforce.model, salesforce.match_column, salesforce.match_field) == (
        "crm_salesforce_contacts", "cdp_customer_id", "CDP_Customer_Id__c")
    assert salesforce.destination == "salesforce"


GOOD = {"name": "s", "model": "m", "destination": "hubspot", "object_type": "contacts",
        "match_key": {"column": "email", "field": "email"}, "fields": [{"column": "a", "field": "a"}]}


@pytest.mark.parametrize(("change", "message"), [
    ({"destination": "pipedrive"}, "key 'destination': value 'pipedrive' must be one of hubspot, salesforce"),
    ({"mode": "sometimes"}, "key 'mode': value 'sometimes' must be one of"),
    ({"batch_size": 0}, "key 'batch_size': value 0 must be a positive integer"),
    ({"fields": [{"column": "a", "type": "blob"}]}, "key 'fields[0].type': value 'blob'"),
    ({"fields": []}, "key 'fields': value []"),
    ({"match_key": "email"}, "key 'match_key': value 'email'"),
    ({"consent": {"purpose": "email"}}, "key 'consent.customer_id_column': value None"),
    ({"deletions": {"identifier_type": "fax"}}, "key 'deletions.identifier_type': value 'fax'"),
    ({"colour": "blue"}, "key 'colour': value 'blue' is not a known key"),
])
def test_validation_names_file_sync_key_and_value(change, message):
    with pytest.raises(ConfigError) as info:
        parse_sync({**GOOD, **change}, "syncs.yml")
    assert message in str(info.value) and "syncs.yml: sync 's'" in str(info.value)


def test_load_rejects_duplicates_and_bad_yaml(tmp_path: Path):
    path = tmp_path / "syncs.yml"
    path.write_text("syncs:\n  - {name: a, model: m, destination: hubspot, object_type: contacts, "
                    "match_key: {column: e, field: email}, fields: [{column: x}]}\n" * 1
                    + "  - {name: a, model: m, destination: hubspot, object_type: contacts, "
                      "match_key: {column: e, field: email}, fields: [{column: x}]}\n")
    with pytest.raises(ConfigError, match="sync 'a': key 'name': value 'a' is defined twice"):
        load_syncs(path)
    path.write_text("syncs: [")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_syncs(path)
    with pytest.raises(ConfigError, match="no sync named 'nope'"):
        load_syncs().get("nope")


def test_unknown_model_column_and_missing_model_are_named(duckdb_wh: Warehouse, server: HubSpotServer):
    make_world(duckdb_wh, rows=20)
    bad = hubspot_sync(fields=(*hubspot_sync().fields, dataclasses.replace(hubspot_sync().fields[0], column="nope",
                                                                           field="nope")))
    index = len(hubspot_sync().fields)
    with pytest.raises(ConfigError, match=rf"key 'fields\[{index}\].column': value 'nope' is not a column of"):
        run(duckdb_wh, server, sync=bad, dry_run=True)
    with pytest.raises(ConfigError, match="key 'model': value 'absent'"):
        run(duckdb_wh, server, sync=hubspot_sync(model="absent"), dry_run=True)


def test_missing_token_is_a_config_error():
    with pytest.raises(ConfigError, match="HUBSPOT_ACCESS_TOKEN is not set"):
        HubSpotSettings.from_env({})


class _UpsertOnly:
    """A destination without send_updates."""

    name = "upsert-only"
    max_batch_size = 100

    def ensure_fields(self, fields):
        pass

    def send_upserts(self, match_key, records):
        raise AssertionError("must not be called")

    def send_deletes(self, match_key, keys):
        raise AssertionError("must not be called")


def test_update_only_needs_a_destination_that_can_update(duckdb_wh: Warehouse, server: HubSpotServer):
    make_world(duckdb_wh, rows=20)
    with pytest.raises(ConfigError, match=r"'mode': value 'update_only' needs a destination .* upsert-only cannot"):
        run(duckdb_wh, server, sync=hubspot_sync(mode="update_only"), factory=lambda sync: _UpsertOnly())
    assert server.stats.requests == 0


def seed_crm(server: HubSpotServer, emails, firstname: str = "CRM") -> None:
    """Contacts someone else created in HubSpot (not this sync)."""
    dest = destination_factory(server)(hubspot_sync())
    assert all(r.ok for r in dest.send_upserts("email", [Record(key=e, fields={"firstname": firstname})
                                                          for e in emails]))


def assert_update_only_outcome(server: HubSpotServer, wh: Warehouse, held: list[str], created_before: int) -> None:
    """HubSpot holds exactly the contacts it held before (nothing created, nothing lost), those in
    the model with the model's values."""
    want = desired(wh)
    contacts = server.contacts_by_email()
    assert server.created_total == created_before
    assert set(contacts) == set(held) | {"outsider@example.com"}
    for email in held:
        assert contacts[email]["firstname"] == want[email]["firstname"], email
        assert contacts[email]["cdp_customer_id"] == want[email]["cdp_customer_id"], email
    assert contacts["outsider@example.com"]["firstname"] == "CRM"


def test_update_only_updates_what_the_crm_holds_and_never_creates(any_wh: Warehouse, server: HubSpotServer):
    make_world(any_wh, rows=300)
    want = desired(any_wh)
    held = sorted(want)[::3]
    seed_crm(server, [*held, "outsider@example.com"])
    created_before = server.created_total
    missing = sorted(set(want) - set(held))
    sync = hubspot_sync(mode="update_only")

    first = run(any_wh, server, sync=sync)
    assert first.status == "succeeded", first.error
    assert (first.sent, first.succeeded, first.failed, first.created) == (len(want), len(held), 0, 0)
    assert first.skip_reasons["not_in_destination"] == len(missing)
    assert_update_only_outcome(server, any_wh, held, created_before)
    state = dict(any_wh.query(f"select last_result, count(*) from {SYNC_SCHEMA}.sync_state group by 1"))
    assert state == {"ok": len(held), "not_in_destination": len(missing), "deleted": 3}
    operations = dict(any_wh.query(f"select operation, count(*) from {SYNC_SCHEMA}.sync_row_results "
                                   "where run_id = ? group by 1", [first.run_id]))
    assert operations == {"update": len(held), "skip": len(missing), "delete": 3, "invalid": 3}

    # unchanged rows, held or not, are not sent again
    second = run(any_wh, server, sync=sync)
    assert (second.planned, second.sent, second.status) == (0, 0, "succeeded")
    assert second.skip_reasons["not_in_destination"] == len(missing)
    assert second.unchanged == len(held)

    # a changed row is checked again: updated when held, still skipped (and not created) when not
    any_wh.execute(f"""update "{MODEL_SCHEMA}".crm_hubspot_contacts set firstname = firstname || '-v2'
        where email in ('{held[1]}', '{missing[1]}')""")
    third = run(any_wh, server, sync=sync)
    assert (third.sent, third.succeeded, third.failed) == (2, 1, 0)
    assert third.skip_reasons["not_in_destination"] == len(missing)
    assert_update_only_outcome(server, any_wh, held, created_before)
    assert server.contacts_by_email()[held[1]]["firstname"].endswith("-v2")

    # someone creates the missing contact in HubSpot; the next change of its row reaches it
    seed_crm(server, [missing[1]])
    any_wh.execute(f"""update "{MODEL_SCHEMA}".crm_hubspot_contacts set firstname = firstname || '-v3'
        where email = '{missing[1]}'""")
    fourth = run(any_wh, server, sync=sync)
    assert (fourth.sent, fourth.succeeded) == (1, 1)
    assert_update_only_outcome(server, any_wh, [*held, missing[1]], created_before + 1)

    # --full-resync looks every key up again, and still creates nothing
    full = run(any_wh, server, sync=sync, full_resync=True)
    assert full.sent == len(want) and full.succeeded == len(held) + 1 and full.created == 0
    assert full.skip_reasons["not_in_destination"] == len(missing) - 1
    assert_update_only_outcome(server, any_wh, [*held, missing[1]], created_before + 1)

    # switching the sync to upsert sends the rows the CRM never held
    upsert = run(any_wh, server)
    assert upsert.sent == upsert.created == len(missing) - 1
    assert set(server.contacts_by_email()) == set(want) | {"outsider@example.com"}


# -- diff and state, on both warehouses -----------------------------------------------------------

def test_dry_run_plans_and_writes_nothing(any_wh: Warehouse, server: HubSpotServer):
    make_world(any_wh, rows=200)
    plan = run(any_wh, server, dry_run=True, sample_size=3)
    assert plan.invalid_reasons == {"null key": 1, "duplicate key": 2}
    assert plan.skip_reasons["no email consent"] == sum(1 for i in range(200) if i % 10 in (0, 7))
    assert plan.deletes_planned == 3
    assert plan.planned == len(desired(any_wh))
    assert len(plan.sample) == 3 and plan.sample[0]["action"] == "upsert"
    assert not any_wh.table_exists(SYNC_SCHEMA, "sync_state")
    assert server.stats.requests == 0


def test_sync_sends_new_then_nothing_then_exactly_the_changed(any_wh: Warehouse, server: HubSpotServer):
    make_world(any_wh, rows=1000)
    first = run(any_wh, server)
    want = desired(any_wh)
    assert first.status == "succeeded" and first.succeeded == first.sent == len(want) == first.created
    assert first.deleted == 3 and first.skip_reasons["suppressed: the person asked to be deleted"] == 2
    assert_server_holds_exactly(server, any_wh)

    second = run(any_wh, server)
    assert (second.planned, second.sent, second.deleted) == (0, 0, 0)
    assert second.unchanged == len(want)

    # change 1% of the rows (10), among them two without consent: only the 8 consented are sent
    any_wh.execute(f"""update "{MODEL_SCHEMA}".crm_hubspot_contacts set firstname = firstname || '-v2'
        where cdp_customer_id in ('c11', 'c12', 'c13', 'c14', 'c15', 'c16', 'c18', 'c19', 'c20', 'c27')""")
    third = run(any_wh, server)
    assert third.sent == third.succeeded == 8 and third.created == 0
    assert {r[0] for r in any_wh.query(
        f"select record_key from {SYNC_SCHEMA}.sync_row_results where run_id = ? and operation = 'upsert'",
        [third.run_id])} == {f"user{i}@example.com" for i in (11, 12, 13, 14, 15, 16, 18, 19)}
    assert_server_holds_exactly(server, any_wh)

    # --full-resync sends every valid row again, creating nothing
    full = run(any_wh, server, full_resync=True)
    assert full.sent == len(want) and full.created == 0
    assert server.created_total == len(want)

    runs = any_wh.query(f"select status, planned, sent, succeeded, failed, skipped, invalid, deleted "
                        f"from {SYNC_SCHEMA}.sync_runs order by started_at")
    assert [r[0] for r in runs] == ["succeeded"] * 4
    assert runs[0][6] == 3 and runs[0][7] == 3 and runs[1][2] == 0
    state = dict(any_wh.query(f"select last_result, count(*) from {SYNC_SCHEMA}.sync_state group by 1"))
    assert state == {"ok": len(want), "deleted": 3}


@pytest.mark.postgres
def test_a_second_run_of_one_sync_waits_for_the_first(pg_sync_target: Target, server: HubSpotServer):
    """Two processes running one sync at once would both send the same rows: the second refuses,
    names the run in progress, sends nothing and does not mark that run interrupted."""
    wh, other = connect(pg_sync_target), connect(pg_sync_target)
    try:
        for schema in (MODEL_SCHEMA, SYNC_SCHEMA):
            wh.execute(f'drop schema if exists "{schema}" cascade')
        make_world(wh, rows=50)
        state.ensure_tables(wh, SYNC_SCHEMA)
        state.acquire_run_lock(other, SYNC_SCHEMA, "hubspot")  # the first process, mid-run
        other.execute(f"insert into {SYNC_SCHEMA}.sync_runs (run_id, sync_name, started_at, status) "
                      "values ('run-in-progress', 'hubspot', now(), 'running')")
        with pytest.raises(state.SyncAlreadyRunning, match=r"already running.*run-in-progress"):
            run(wh, server)
        assert server.created_total == 0
        assert wh.query(f"select status from {SYNC_SCHEMA}.sync_runs") == [("running",)]
        state.release_run_lock(other, SYNC_SCHEMA, "hubspot")
        done = run(wh, server)
        assert done.status == "succeeded" and done.succeeded == len(desired(wh))
        assert dict(wh.query(f"select run_id, status from {SYNC_SCHEMA}.sync_runs"))["run-in-progress"] == \
            "interrupted"
    finally:
        other.close()
        wh.close()


def test_deleted_person_reappearing_is_never_recreated(any_wh: Warehouse, server: HubSpotServer):
    make_world(any_wh, rows=50)
    run(any_wh, server)
    # c4 comes back under a new customer id with the same email; and c3's id with a new email
    any_wh.execute(f"delete from \"{MODEL_SCHEMA}\".crm_hubspot_contacts where cdp_customer_id in ('c3', 'c4')")
    any_wh.execute(f"""insert into "{MODEL_SCHEMA}".crm_hubspot_contacts values
        ('user4@example.com', 'c4new', 'Back', 'Again', null, 1, 1, null, null, null, null, null),
        ('new3@example.com', 'c3', 'Back', 'Again', null, 1, 1, null, null, null, null, null)""")
    any_wh.execute(f"""insert into "{MODEL_SCHEMA}".customer_consent values ('c4new', 'email', 'granted')""")
    again = run(any_wh, server)
    assert again.sent == 0 and again.skip_reasons["suppressed: the person asked to be deleted"] == 2
    assert "user4@example.com" not in server.contacts_by_email()
    assert "new3@example.com" not in server.contacts_by_email()


def test_lost_consent_rows_are_not_sent(any_wh: Warehouse, server: HubSpotServer):
    make_world(any_wh, rows=50)
    run(any_wh, server)
    any_wh.execute(f"update \"{MODEL_SCHEMA}\".customer_consent set consent_status = 'denied' "
                   "where customer_id = 'c21'")
    any_wh.execute(f"update \"{MODEL_SCHEMA}\".crm_hubspot_contacts set firstname = 'X' where cdp_customer_id = 'c21'")
    again = run(any_wh, server)
    assert again.sent == 0 and again.skip_reasons["no email consent"] == 11


def test_consent_from_a_model_column(duckdb_wh: Warehouse, server: HubSpotServer):
    from cdp.sync.config import Consent

    make_world(duckdb_wh, rows=30)
    duckdb_wh.execute(f"alter table {MODEL_SCHEMA}.crm_hubspot_contacts add column ok_to_send boolean")
    duckdb_wh.execute(f"update {MODEL_SCHEMA}.crm_hubspot_contacts set ok_to_send = cdp_order_count > 2")
    plan = run(duckdb_wh, server, sync=hubspot_sync(consent=Consent(column="ok_to_send")), dry_run=True)
    assert plan.skip_reasons["no column ok_to_send"] > 0


def test_mirror_archives_only_what_the_sync_created(duckdb_wh: Warehouse, server: HubSpotServer):
    make_world(duckdb_wh, rows=40)
    # a contact someone else created in HubSpot before the sync ran
    factory = destination_factory(server)
    factory(hubspot_sync()).send_upserts("email", [__import__("cdp.sync.destinations.base", fromlist=["Record"])
                                                   .Record(key="user1@example.com", fields={"firstname": "CRM"})])
    mirror = hubspot_sync(mode="mirror")
    run(duckdb_wh, server, sync=mirror)
    duckdb_wh.execute(f"delete from {MODEL_SCHEMA}.crm_hubspot_contacts "
                      "where cdp_customer_id in ('c1', 'c2', 'c5')")
    plan = run(duckdb_wh, server, sync=mirror, dry_run=True)
    assert plan.archives_planned == 2  # c2, c5; c1 existed before the sync
    done = run(duckdb_wh, server, sync=mirror)
    assert done.archived == 2
    held = server.contacts_by_email()
    assert "user1@example.com" in held and "user2@example.com" not in held and "user5@example.com" not in held
    assert run(duckdb_wh, server, sync=mirror).archived == 0


def test_cli_dry_run_on_the_project_file(tmp_path: Path):
    """`cdp sync hubspot --dry-run` still works on a warehouse with the sync models."""
    import os
    import subprocess
    import sys

    target = dataclasses.replace(resolve_target("dev"), duckdb_path=tmp_path / "cli.duckdb")
    wh = connect(target)
    make_world(wh, rows=30)
    wh.close()
    env = {**os.environ, "CDP_DUCKDB_PATH": str(target.duckdb_path), "CDP_DUCKDB_SCHEMA": "cdp"}
    out = subprocess.run([sys.executable, "-m", "cdp.cli", "sync", "hubspot", "--dry-run", "--target", "dev"],
                         env=env, capture_output=True, text=True, cwd=PROJECT_DIR)
    assert out.returncode == 0, out.stderr
    import json

    plan = json.loads(out.stdout.strip().splitlines()[-1])
    assert plan["dry_run"] and plan["planned"] > 0 and plan["invalid"] == 3
