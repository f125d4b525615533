"""The Salesforce destination against a local Salesforce over real HTTPS (trustme CA), through
simple-salesforce: Bulk API 2.0 and sObject Collections upserts, result joins, faults, deletes,
CSV escaping, the describe check and the configuration errors."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from cdp.sync.destinations.base import Destination, DestinationError, Record
from cdp.sync.destinations.salesforce import (
    CONTACT_FIELD_MAP,
    SalesforceDestination,
    SalesforceSettings,
)
from cdp.warehouse import ConfigError
from tests.servers.salesforce_server import CONTACT_FIELDS, SalesforceServer

KEY = "CDP_Customer_Id__c"
PATHS = {"bulk": 0, "rest": 10_000}  # rest_threshold: 0 forces Bulk 2.0, 10,000 forces Collections


@pytest.fixture
def server() -> Iterator[SalesforceServer]:
    with SalesforceServer(in_progress_polls=2, seed=3) as running:
        yield running


def destination(server: SalesforceServer, path: str = "bulk", **options: Any) -> SalesforceDestination:
    settings = SalesforceSettings(instance_url=server.instance_url, access_token=server.token,
                                  ca_bundle=server.ca_bundle)
    defaults: dict[str, Any] = {"rest_threshold": PATHS[path], "poll_interval": 0.01, "retry_backoff": 0.01}
    return SalesforceDestination(settings, **{**defaults, **options})


def contact(key: str, last: str | None = "Smith", **fields: Any) -> Record:
    return Record(key=key, fields={"FirstName": "Ann", "LastName": last, "Email": f"{key}@example.com", **fields})


def test_it_is_a_destination(server: SalesforceServer) -> None:
    dest: Destination = destination(server)
    assert dest.name == "salesforce"
    assert dest.max_batch_size == 10_000
    assert set(CONTACT_FIELD_MAP.values()) <= {name for name, _, _ in CONTACT_FIELDS}


@pytest.mark.parametrize("path", PATHS)
def test_upserts_create_then_update_without_duplicates(server: SalesforceServer, path: str) -> None:
    dest = destination(server, path)
    records = [contact(f"c{i}", Phone=f"+4420700000{i:02d}") for i in range(5)]
    first = dest.send_upserts(KEY, records)
    assert [r.key for r in first] == [r.key for r in records]
    assert all(r.ok and r.created and r.destination_id for r in first), first
    assert ("POST", "/services/data/v62.0/jobs/ingest") in server.requests if path == "bulk" else True

    # second run: changed names, no phone (the engine left the null out) -> updates, phone kept
    changed = [contact(f"c{i}", last="Jones") for i in range(5)]
    second = dest.send_upserts(KEY, changed)
    assert all(r.ok and r.created is False for r in second), second
    assert [r.destination_id for r in second] == [r.destination_id for r in first]
    assert len(server.records) == 5
    stored = server.find(KEY, "c3")[0]
    assert stored["LastName"] == "Jones"
    assert stored["Phone"] == "+442070000003"


@pytest.mark.parametrize("path", PATHS)
def test_partial_failures_map_to_their_records_whatever_the_order(server: SalesforceServer, path: str) -> None:
    dest = destination(server, path)
    records = []
    for i in range(60):
        if i % 7 == 3:
            records.append(contact(f"k{i}", last=None))  # LastName is required on create
        elif i % 11 == 5:
            records.append(contact(f"k{i}", Email="not-an-address"))
        else:
            records.append(contact(f"k{i}"))
    results = dest.send_upserts(KEY, records)
    assert [r.key for r in results] == [r.key for r in records]
    for i, result in enumerate(results):
        if i % 7 == 3:
            assert not result.ok and result.error.startswith("REQUIRED_FIELD_MISSING"), result
            assert "LastName" in result.error
        elif i % 11 == 5:
            assert not result.ok and result.error.startswith("INVALID_EMAIL_ADDRESS"), result
        else:
            assert result.ok and result.destination_id == server.find(KEY, f"k{i}")[0]["Id"], result
    assert len(server.records) == sum(r.ok for r in results)


def test_bulk_results_are_read_as_shuffled_csv(server: SalesforceServer) -> None:
    dest = destination(server)
    dest.send_upserts(KEY, [contact(f"s{i}") for i in range(30)])
    job = next(iter(server.jobs.values()))
    order = [row[KEY] for row in job.successful]
    assert sorted(order) == sorted(f"s{i}" for i in range(30))
    csv_text = server._results_csv(job, "successful")
    assert csv_text.splitlines()[0].startswith("sf__Id,sf__Created,")
    assert [line.split(",")[2] for line in csv_text.splitlines()[1:]] != [f"s{i}" for i in range(30)]


def test_unprocessed_and_missing_records_fail(server: SalesforceServer) -> None:
    dest = destination(server)
    server.unprocess_next_job(3)
    results = dest.send_upserts(KEY, [contact(f"u{i}") for i in range(10)])
    assert [r.ok for r in results] == [True] * 7 + [False] * 3
    assert all("unprocessed" in r.error for r in results[7:])

    server.drop_results_next_job(2)
    results = dest.send_upserts(KEY, [contact(f"d{i}") for i in range(5)])
    assert [r.ok for r in results] == [False, False, True, True, True]
    assert all(r.error.startswith("no result") for r in results[:2])


def test_either_spelling_of_the_unprocessed_records_endpoint(server: SalesforceServer) -> None:
    dest = destination(server)
    for spelling in ("unprocessedrecords", "unprocessedRecords"):
        server.unprocessed_spellings = {spelling}
        server.unprocess_next_job(1)
        results = dest.send_upserts(KEY, [contact(f"{spelling}-1"), contact(f"{spelling}-2")])
        assert [r.ok for r in results] == [True, False] and "unprocessed" in results[1].error


def test_failed_job_fails_every_record_without_raising(server: SalesforceServer) -> None:
    dest = destination(server)
    server.fail_next_job("InternalServerError : the org is in maintenance")
    results = dest.send_upserts(KEY, [contact(f"f{i}") for i in range(4)])
    assert [r.ok for r in results] == [False] * 4
    assert all("ended Failed" in r.error and "maintenance" in r.error for r in results)
    assert not server.records

    # an unknown column fails the whole job on Salesforce's side too
    results = dest.send_upserts(KEY, [contact("x1", Favourite_Colour__c="blue")])
    assert not results[0].ok and "Field name not found : Favourite_Colour__c" in results[0].error


def test_invalid_token_is_a_destination_error(server: SalesforceServer) -> None:
    settings = SalesforceSettings(instance_url=server.instance_url, access_token="wrong",
                                  ca_bundle=server.ca_bundle)
    for path in PATHS:
        dest = SalesforceDestination(settings, rest_threshold=PATHS[path], retry_backoff=0.01)
        with pytest.raises(DestinationError, match=r"401 INVALID_SESSION_ID.*SALESFORCE_ACCESS_TOKEN"):
            dest.send_upserts(KEY, [contact("a")])
    with pytest.raises(DestinationError, match="INVALID_SESSION_ID"):
        dest.send_deletes(KEY, ["a"])
    server.expire_token()
    with pytest.raises(DestinationError, match="INVALID_SESSION_ID"):
        destination(server).ensure_fields({"LastName": "string"})


@pytest.mark.parametrize("path", PATHS)
def test_server_errors_are_retried_then_give_up(server: SalesforceServer, path: str) -> None:
    dest = destination(server, path, retries=3)
    server.fail_requests(2, status=503)
    before = len(server.requests)
    assert all(r.ok for r in dest.send_upserts(KEY, [contact("r1"), contact("r2")]))
    assert len(server.requests) - before >= 3

    server.fail_requests(10, status=500)
    with pytest.raises(DestinationError, match="failed after 4 attempts: HTTP 500"):
        dest.send_upserts(KEY, [contact("r3")])


def test_unreachable_server_is_retried_then_a_destination_error(server: SalesforceServer) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    settings = SalesforceSettings(instance_url=f"https://127.0.0.1:{port}", access_token="t",
                                  ca_bundle=server.ca_bundle)
    dest = SalesforceDestination(settings, retries=2, retry_backoff=0.01)
    with pytest.raises(DestinationError, match="failed after 3 attempts"):
        dest.send_deletes(KEY, ["a"])


def test_job_that_never_finishes_times_out_and_is_aborted(server: SalesforceServer) -> None:
    server.in_progress_polls = 10_000
    dest = destination(server, job_timeout=0.3, poll_interval=0.02)
    with pytest.raises(DestinationError, match=r"still InProgress.*aborted"):
        dest.send_upserts(KEY, [contact("t1")])
    assert next(iter(server.jobs.values())).state == "Aborted"


@pytest.mark.parametrize("operation", ["hardDelete", "delete"])
def test_deletes_by_external_id(server: SalesforceServer, operation: str) -> None:
    settings = SalesforceSettings(instance_url=server.instance_url, access_token=server.token,
                                  ca_bundle=server.ca_bundle, delete_operation=operation)
    dest = SalesforceDestination(settings, rest_threshold=0, poll_interval=0.01)
    keys = ["keep", "gone-1", "o'brien\\x", "tab\there"]
    upserts = [contact(k, Email=f"p{i}@example.com") for i, k in enumerate(keys)]
    assert all(r.ok for r in dest.send_upserts(KEY, upserts))
    ids = {k: server.find(KEY, k)[0]["Id"] for k in keys}

    results = dest.send_deletes(KEY, ["gone-1", "never-synced", "o'brien\\x", "tab\there"])
    assert [r.ok for r in results] == [True, True, True, True], results
    assert results[0].destination_id == ids["gone-1"]
    assert results[1].destination_id is None  # Salesforce never held it: counts as deleted
    assert [r["Id"] for r in server.records.values()] == [ids["keep"]]
    created = [job for job in server.jobs.values() if job.operation == operation]
    assert len(created) == 1

    # deleting again is a no-op that still succeeds
    assert all(r.ok for r in dest.send_deletes(KEY, ["gone-1"]))


def test_many_deletes_are_looked_up_in_several_queries(server: SalesforceServer) -> None:
    dest = destination(server)
    keys = [f"bulk-{i:04d}-" + "x" * 30 for i in range(450)]
    assert all(r.ok for r in dest.send_upserts(KEY, [contact(k) for k in keys]))
    results = dest.send_deletes(KEY, keys)
    assert all(r.ok for r in results) and not server.records
    assert len([p for p in server.paths("GET") if "/query" in p]) >= 3


@pytest.mark.parametrize("path", PATHS)
def test_awkward_values_arrive_intact(server: SalesforceServer, path: str) -> None:
    dest = destination(server, path)
    awkward = {
        "q1": ("O'Neil, \"Junior\"", "Smith,\nJones"),
        "q2": ("Zoë", "Ñúñez-Øster 李"),
        "q3": ("line\r\nbreak", "#hash ,;|"),
        'q4,"odd key"\n': ("Ann", "  spaced  "),
    }
    records = [Record(k, {"FirstName": first, "LastName": last, "CDP_Total_Revenue__c": Decimal("1234.500000"),
                          "CDP_Last_Order_Date__c": dt.date(2024, 5, 1), "CDP_Order_Count__c": 3})
               for k, (first, last) in awkward.items()]
    results = dest.send_upserts(KEY, records)
    assert all(r.ok for r in results), results
    for key, (first, last) in awkward.items():
        stored = server.find(KEY, key)
        assert len(stored) == 1
        assert (stored[0]["FirstName"], stored[0]["LastName"]) == (first, last)
        assert stored[0]["CDP_Last_Order_Date__c"] == "2024-05-01"
        assert Decimal(stored[0]["CDP_Total_Revenue__c"]) == Decimal("1234.5")
        assert stored[0]["CDP_Order_Count__c"] == "3"


@pytest.mark.parametrize("path", PATHS)
def test_nulls_clear_only_fields_sent_as_null(server: SalesforceServer, path: str) -> None:
    """The engine leaves nulls out unless the mapping says send_nulls: a None that arrives clears."""
    dest = destination(server, path)
    dest.send_upserts(KEY, [contact("n1", Phone="+15550100", CDP_Lifecycle_Stage__c="active",
                                    CDP_Order_Count__c=2)])
    results = dest.send_upserts(KEY, [Record("n1", {"Phone": None, "CDP_Lifecycle_Stage__c": "",
                                                    "FirstName": "Bea"})])
    assert results[0].ok
    stored = server.find(KEY, "n1")[0]
    assert stored["Phone"] is None  # present and None: cleared
    assert stored["CDP_Lifecycle_Stage__c"] == "active"  # empty string: left alone
    assert stored["CDP_Order_Count__c"] == "2"  # absent: left alone
    assert (stored["FirstName"], stored["LastName"]) == ("Bea", "Smith")


def test_registry_factory_uses_the_sync_definition(server: SalesforceServer, monkeypatch: Any) -> None:
    from types import SimpleNamespace

    from cdp.sync.destinations.salesforce import create

    env = {"SALESFORCE_INSTANCE_URL": server.instance_url, "SALESFORCE_ACCESS_TOKEN": server.token,
           "SALESFORCE_CA_BUNDLE": server.ca_bundle}
    dest = create(SimpleNamespace(object_type="Contact", match_field=KEY), env)
    assert (dest.object_type, dest.settings.external_id_field) == ("Contact", KEY)
    dest.ensure_fields({"LastName": "string", KEY: "string"})
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert SalesforceDestination.from_env().send_upserts(KEY, [contact("env1")])[0].ok


def test_empty_and_duplicate_keys_are_not_sent(server: SalesforceServer) -> None:
    results = destination(server, "rest").send_upserts(KEY, [contact("a1"), contact(""), contact("a1", last="X")])
    assert [r.ok for r in results] == [True, False, False]
    assert "empty" in results[1].error and "duplicate" in results[2].error
    assert server.find(KEY, "a1")[0]["LastName"] == "Smith"


def test_large_rest_batches_go_in_requests_of_200(server: SalesforceServer) -> None:
    dest = destination(server, "rest")
    results = dest.send_upserts(KEY, [contact(f"m{i}") for i in range(450)])
    assert all(r.ok for r in results)
    assert len([p for p in server.paths("PATCH") if "/composite/sobjects/Contact/" in p]) == 3
    assert not server.jobs


def test_ensure_fields_checks_describe(server: SalesforceServer) -> None:
    dest = destination(server)
    dest.ensure_fields({"FirstName": "string", "LastName": "string", "CDP_Order_Count__c": "number",
                        "CDP_Last_Order_Date__c": "date", "cdp_total_revenue__c": "number"})
    with pytest.raises(ConfigError, match=r"missing fields CDP_Churn_Score__c \(number\), CDP_Vip__c \(bool\)"):
        dest.ensure_fields({"LastName": "string", "CDP_Churn_Score__c": "number", "CDP_Vip__c": "bool"})
    with pytest.raises(ConfigError, match="CDP_Last_Order_Date__c is a Salesforce date field, cannot hold a number"):
        dest.ensure_fields({"CDP_Last_Order_Date__c": "number"})
    with pytest.raises(ConfigError, match="Id is not writable"):
        dest.ensure_fields({"Id": "string"})


def test_ensure_fields_needs_the_external_id_field() -> None:
    without = tuple(f for f in CONTACT_FIELDS if f[0] != KEY)
    with SalesforceServer(object_fields=without) as bare, pytest.raises(ConfigError, match=f"missing fields {KEY}"):
        destination(bare).ensure_fields({"LastName": "string"})
    not_external = (*without, (KEY, "string", False))
    with (SalesforceServer(object_fields=not_external) as plain,
          pytest.raises(ConfigError, match=f"{KEY} is not marked External ID")):
        destination(plain).ensure_fields({"LastName": "string"})


def test_settings_from_the_environment(server: SalesforceServer, tmp_path: Any) -> None:
    env = {"SALESFORCE_INSTANCE_URL": server.instance_url, "SALESFORCE_ACCESS_TOKEN": server.token,
           "SALESFORCE_CA_BUNDLE": server.ca_bundle, "SALESFORCE_API_VERSION": "61.0"}
    dest = SalesforceDestination.from_env(env, rest_threshold=0, poll_interval=0.01)
    assert dest.send_upserts(KEY, [contact("e1")])[0].ok
    assert any(p.startswith("/services/data/v61.0/jobs/ingest") for p in server.paths())

    for missing in ("SALESFORCE_INSTANCE_URL", "SALESFORCE_ACCESS_TOKEN"):
        with pytest.raises(ConfigError, match=f"{missing} is not set"):
            SalesforceDestination.from_env({k: v for k, v in env.items() if k != missing})
    with pytest.raises(ConfigError, match=r"SALESFORCE_INSTANCE_URL=.*https"):
        SalesforceDestination.from_env({**env, "SALESFORCE_INSTANCE_URL": "http://127.0.0.1:1"})
    with pytest.raises(ConfigError, match=r"SALESFORCE_CA_BUNDLE=.*no such file"):
        SalesforceDestination.from_env({**env, "SALESFORCE_CA_BUNDLE": str(tmp_path / "nope.pem")})
    with pytest.raises(ConfigError, match="SALESFORCE_DELETE_OPERATION"):
        SalesforceDestination.from_env({**env, "SALESFORCE_DELETE_OPERATION": "purge"})


def test_untrusted_certificate_is_a_destination_error(server: SalesforceServer) -> None:
    settings = SalesforceSettings(instance_url=server.instance_url, access_token=server.token)
    dest = SalesforceDestination(settings, retry_backoff=0.01)
    with pytest.raises(DestinationError, match="TLS verification"):
        dest.send_upserts(KEY, [contact("tls")])
    assert not server.requests


# -- update_only -------------------------------------------------------------------------------

@pytest.mark.parametrize("path", PATHS)
def test_updates_change_held_records_and_create_none(server: SalesforceServer, path: str) -> None:
    dest = destination(server, path)
    seeded = dest.send_upserts(KEY, [contact(f"h{i}", Phone="+15550100") for i in range(4)])
    jobs_before = len(server.jobs)
    records = [contact("h0", last="Jones"), contact("missing-1", last="Nobody"), contact("h2", last="Brown"),
               contact("o'missing\\2"), Record("h3", {"FirstName": "Cy"}), contact(""), contact("h0", last="Dup")]
    results = dest.send_updates(KEY, records)
    assert [r.key for r in results] == [r.key for r in records]
    assert [(r.ok, r.missing) for r in results] == [(True, False), (False, True), (True, False), (False, True),
                                                    (True, False), (False, False), (False, False)], results
    assert results[1].error.startswith("not_in_destination") and results[3].error.startswith("not_in_destination")
    assert "empty" in results[5].error and "duplicate" in results[6].error
    assert [r.destination_id for r in results[:1]] == [seeded[0].destination_id]
    assert all(r.created is False for r in results if r.ok)
    assert len(server.records) == 4 and not server.find(KEY, "missing-1")
    assert server.find(KEY, "h0")[0]["LastName"] == "Jones"
    assert server.find(KEY, "h0")[0]["Phone"] == "+15550100"  # absent from the record: left alone
    assert (server.find(KEY, "h3")[0]["FirstName"], server.find(KEY, "h3")[0]["LastName"]) == ("Cy", "Smith")
    new_jobs = list(server.jobs.values())[jobs_before:]
    if path == "bulk":
        assert [job.operation for job in new_jobs] == ["update"]
    else:
        assert not new_jobs and any(p.endswith("/composite/sobjects") for p in server.paths("PATCH"))


@pytest.mark.parametrize("path", PATHS)
def test_update_refusals_are_failures_not_missing(server: SalesforceServer, path: str) -> None:
    dest = destination(server, path)
    dest.send_upserts(KEY, [contact("v1"), contact("v2")])
    results = dest.send_updates(KEY, [Record("v1", {"LastName": None}), contact("v2", Email="not-an-address")])
    assert [(r.ok, r.missing) for r in results] == [(False, False), (False, False)]
    assert results[0].error.startswith("REQUIRED_FIELD_MISSING") and results[1].error.startswith("INVALID_EMAIL")
    assert server.find(KEY, "v1")[0]["LastName"] == "Smith"

    # deleted between the lookup and the update: a failure (looked up again next run), not missing
    stale = dest._lookup_ids(KEY, ["v1"])
    server.records.clear()
    dest._lookup_ids = lambda match_key, keys: stale  # type: ignore[method-assign]
    (gone,) = dest.send_updates(KEY, [contact("v1")])
    assert not gone.ok and not gone.missing and "ENTITY_IS_DELETED" in gone.error
    assert not server.records


@pytest.mark.parametrize("path", PATHS)
def test_update_faults_are_retried_and_lose_nothing(server: SalesforceServer, path: str) -> None:
    dest = destination(server, path, retries=3)
    dest.send_upserts(KEY, [contact(f"f{i}") for i in range(3)])
    server.fail_requests(2, status=503)  # the lookup query
    results = dest.send_updates(KEY, [contact(f"f{i}", last="New") for i in range(3)] + [contact("absent")])
    assert [(r.ok, r.missing) for r in results] == [(True, False)] * 3 + [(False, True)]
    assert all(server.find(KEY, f"f{i}")[0]["LastName"] == "New" for i in range(3))
    assert len(server.records) == 3

    server.fail_requests(4, status=500)  # every attempt of the lookup
    with pytest.raises(DestinationError, match="failed after 4 attempts: HTTP 500"):
        dest.send_updates(KEY, [contact("f0")])
    server.expire_token()
    with pytest.raises(DestinationError, match="INVALID_SESSION_ID"):
        dest.send_updates(KEY, [contact("f0")])


def test_failed_update_job_fails_every_record(server: SalesforceServer) -> None:
    dest = destination(server)
    dest.send_upserts(KEY, [contact("j1"), contact("j2")])
    server.fail_next_job("InternalServerError : maintenance")
    results = dest.send_updates(KEY, [contact("j1", last="X"), contact("j2", last="Y"), contact("nope")])
    assert [(r.ok, r.missing) for r in results] == [(False, False), (False, False), (False, True)]
    assert "ended Failed" in results[0].error
    assert server.find(KEY, "j1")[0]["LastName"] == "Smith"


def test_engine_sync_under_faults_ends_with_exactly_the_desired_contacts(server: SalesforceServer,
                                                                         tmp_path: Any) -> None:
    """The salesforce sync of syncs.yml through the engine: a job that fails, then server errors
    and a changed row; after the reruns the org holds exactly the consented, not deleted rows,
    once each, and a run with nothing changed sends nothing."""
    import dataclasses

    from cdp.sync.config import load_syncs
    from cdp.sync.engine import RunOptions, run_sync
    from cdp.warehouse import connect, resolve_target
    from tests.python.test_sync_engine import MODEL_SCHEMA, make_world

    wh = connect(dataclasses.replace(resolve_target("dev"), duckdb_path=tmp_path / "sf.duckdb"))
    try:
        make_world(wh, rows=120)
        wh.execute(f"""create table {MODEL_SCHEMA}.crm_salesforce_contacts as
            select cdp_customer_id, firstname as first_name, lastname as last_name, email, phone
            from {MODEL_SCHEMA}.crm_hubspot_contacts where email is not null""")
        want = {row[0] for row in wh.query(f"""
            select m.cdp_customer_id from {MODEL_SCHEMA}.crm_salesforce_contacts as m
            inner join {MODEL_SCHEMA}.customer_consent as c on c.customer_id = m.cdp_customer_id
                and c.purpose = 'email' and c.consent_status = 'granted'
            where m.cdp_customer_id not in (select customer_id from {MODEL_SCHEMA}.customer_deletions)""")}
        sync = load_syncs().get("salesforce")

        def run() -> Any:
            return run_sync(wh, sync, RunOptions(progress=False), lambda _: destination(server, "bulk"))

        def held() -> list[str]:
            with server.lock:
                return [r.get(KEY) for r in server.records.values()]

        server.fail_next_job("InternalServerError : the org is in maintenance")
        first = run()
        assert first.succeeded == 0 and first.failed == len(want) and not held()
        second = run()
        assert second.sent == len(want) and sorted(held()) == sorted(want)

        wh.execute(f"update {MODEL_SCHEMA}.crm_salesforce_contacts set first_name = 'Changed' "
                   "where cdp_customer_id in ('c1', 'c2')")
        server.fail_requests(2)
        third = run()
        assert third.sent == 2 and third.succeeded == 2
        assert {r["FirstName"] for key in ("c1", "c2") for r in server.find(KEY, key)} == {"Changed"}
        assert sorted(held()) == sorted(want)  # once each: nothing duplicated, nothing deleted re-created
        assert run().sent == 0
    finally:
        wh.close()
