"""Access on Postgres: the BI reader sees the marts meant for it and the masked profiles, and
nothing in raw, staging or intermediate; the sync role sees only the sync models. Each read
connects as the role itself."""

from __future__ import annotations

import dataclasses

import psycopg2
import pytest
from psycopg2 import errors

from cdp.warehouse import Target, relation_schema

pytestmark = pytest.mark.postgres

BI_ROLE = "cdp_bi_reader"
SYNC_ROLE = "cdp_sync"


def read_as(target: Target, role: str, sql: str) -> list[tuple]:
    as_role = dataclasses.replace(target, pg_user=role, pg_password="")
    connection = psycopg2.connect(host=as_role.pg_host, port=as_role.pg_port, user=role,
                                  dbname=as_role.pg_database, password=as_role.pg_password or None)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()
    finally:
        connection.close()


def refused(target: Target, role: str, sql: str) -> bool:
    try:
        read_as(target, role, sql)
    except errors.InsufficientPrivilege:
        return True
    return False


def test_bi_reader_reads_the_marts_and_masked_profiles_only(pg_built: Target):
    marts = relation_schema(pg_built, "marts")
    for mart in ("customer_features", "customer_consent", "audience_memberships", "identity_health",
                 "customer_events", "customer_profiles_masked", "customer_scores", "customer_clv",
                 "next_best_action", "customer_rfm_scores"):
        assert read_as(pg_built, BI_ROLE, f"select count(*) from {marts}.{mart}")[0][0] > 0, mart
    masked = read_as(pg_built, BI_ROLE, f"select email_masked, phone_masked from {marts}.customer_profiles_masked "
                                        "where email_masked is not null and phone_masked is not null limit 50")
    assert masked and all("***@" in email and phone.startswith("***") and len(phone) == 7 for email, phone in masked)
    for relation in (f"{marts}.customers", f"{marts}.customer_identifiers", f"{marts}.crm_hubspot_contacts",
                     f"{marts}.customer_deletions", f"{marts}.model_evaluations",
                     f"{relation_schema(pg_built, 'staging')}.stg_crm__contacts",
                     f"{relation_schema(pg_built, 'intermediate')}.int_identity__customer_ids",
                     "raw_crm.contacts"):
        assert refused(pg_built, BI_ROLE, f"select 1 from {relation} limit 1"), relation


def test_sync_role_reads_only_the_sync_models(pg_built: Target):
    marts = relation_schema(pg_built, "marts")
    assert read_as(pg_built, SYNC_ROLE, f"select count(*) from {marts}.crm_hubspot_contacts")[0][0] > 0
    assert read_as(pg_built, SYNC_ROLE, f"select count(*) from {marts}.customer_deletions")[0][0] > 0
    for relation in (f"{marts}.customers", f"{marts}.customer_features", f"{marts}.customer_profiles_masked",
                     f"{relation_schema(pg_built, 'intermediate')}.int_identity__customer_ids", "raw_crm.contacts"):
        assert refused(pg_built, SYNC_ROLE, f"select 1 from {relation} limit 1"), relation


def test_sync_role_runs_the_hubspot_sync_with_its_own_state(pg_built: Target):
    """The sync runs as the sync role: it reads the sync models and consent, and keeps its state,
    suppression list and run logs in <schema>_sync, which the role may write."""
    from cdp.sync.config import load_syncs
    from cdp.sync.engine import RunOptions, run_sync
    from cdp.warehouse import connect
    from tests.python.test_sync_engine import destination_factory
    from tests.servers.hubspot_server import HubSpotServer

    marts = relation_schema(pg_built, "marts")
    for mart in ("crm_salesforce_contacts", "customer_consent"):
        assert read_as(pg_built, SYNC_ROLE, f"select count(*) from {marts}.{mart}")[0][0] > 0, mart
    sync = load_syncs().get("hubspot")
    with HubSpotServer(rate_limit_max=100, rate_limit_interval=1.0) as server:
        warehouse = connect(dataclasses.replace(pg_built, pg_user=SYNC_ROLE, pg_password=""))
        try:
            summary = run_sync(warehouse, sync, RunOptions(progress=False), destination_factory(server))
            assert summary.status == "succeeded" and summary.succeeded > 0, summary
            runs = warehouse.query(f"select count(*) from {relation_schema(pg_built, 'sync')}.sync_runs")[0][0]
            assert runs >= 1
        finally:
            # leave the shared world as built: other tests plan this sync from an empty state
            for table in ("sync_state", "sync_suppressions", "sync_runs", "sync_row_results"):
                warehouse.execute(f"drop table if exists {relation_schema(pg_built, 'sync')}.{table}")
            warehouse.close()
        assert len(server.contacts_by_email()) == summary.succeeded
