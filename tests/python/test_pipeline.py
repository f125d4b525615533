"""End to end on both warehouses: generated raw data -> dbt build -> marts, checked against
the generator's ground truth."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest
import yaml

from cdp.contract import load_contract
from cdp.dbt_runner import target_environment
from cdp.identity_eval import evaluate_identity
from cdp.sync.plan import HUBSPOT_CONTACTS, plan_sync
from cdp.warehouse import PROJECT_DIR, Target, Warehouse, connect, relation_schema


def conservation_checks() -> list[tuple[str, str, str, str, str]]:
    """(raw schema.table, staged model, rejected model, key, label) from the sources files."""
    contract = load_contract()
    checks = []
    for path in sorted((PROJECT_DIR / "models" / "staging").glob("*/_*__sources.yml")):
        for source in yaml.safe_load(path.read_text())["sources"]:
            for table in source["tables"]:
                for test in table.get("data_tests", []):
                    if isinstance(test, dict) and "row_conservation" in test:
                        args = test["row_conservation"]["arguments"]
                        raw = contract[source["name"]][table["name"]]
                        checks.append((
                            f'"{raw.schema}"."{raw.identifier}"',
                            args["staged"].split("'")[1],
                            args["rejected"].split("'")[1],
                            args["key"],
                            f"{source['name']}.{table['name']}",
                        ))
    return checks


CONSERVATION = conservation_checks()


def count(warehouse: Warehouse, sql: str) -> int:
    return int(warehouse.query(sql)[0][0])


def test_every_raw_table_has_a_conservation_check():
    labels = {label for *_, label in CONSERVATION}
    contract_tables = {f"{s}.{t}" for s, tables in load_contract().items() for t in tables}
    assert labels == contract_tables


@pytest.mark.parametrize("raw, staged, rejected, key, label", CONSERVATION, ids=[c[-1] for c in CONSERVATION])
def test_rows_are_conserved(warehouse: Warehouse, built: Target, raw, staged, rejected, key, label):
    staging = relation_schema(built, "staging")
    raw_rows = count(warehouse, f"select count(*) from {raw}")
    duplicates = count(warehouse, f"select count({key}) - count(distinct {key}) from {raw}")
    staged_rows = count(warehouse, f"select count(*) from {staging}.{staged}")
    rejected_rows = count(warehouse, f"select count(*) from {staging}.{rejected}")
    assert raw_rows > 0, f"{label}: the generator wrote nothing"
    assert staged_rows > 0, f"{label}: nothing staged"
    assert raw_rows == staged_rows + rejected_rows + duplicates, (label, raw_rows, staged_rows, rejected_rows,
                                                                   duplicates)


def test_bad_rows_are_rejected_with_their_reasons(warehouse: Warehouse, built: Target):
    staging = relation_schema(built, "staging")
    reasons: dict[str, int] = {}
    for _raw, _staged, rejected, _key, _label in CONSERVATION:
        for reason, n in warehouse.query(
            f"select reject_reason, count(*) from {staging}.{rejected} group by reject_reason"
        ):
            reasons[reason] = reasons.get(reason, 0) + int(n)
    expected = {"missing_key", "missing_identity", "invalid_timestamp", "malformed_email", "negative_quantity",
                "invalid_amount", "unknown_purpose"}
    assert expected <= set(reasons), f"reasons seen: {reasons}"
    total_duplicates = sum(
        count(warehouse, f"select count({key}) - count(distinct {key}) from {raw}")
        for raw, _s, _r, key, _label in CONSERVATION
    )
    assert total_duplicates > 0


def test_identity_resolution_against_ground_truth(warehouse: Warehouse):
    scores = evaluate_identity(warehouse)
    assert scores.coverage > 0.85, scores
    assert scores.pairwise_precision > 0.995, scores
    assert scores.pairwise_recall > 0.85, scores
    assert scores.over_merge_rate < 0.005, scores
    # the oracle bound holds (a resolver cannot find pairs no evidence links) and is close:
    # what the resolver misses beyond it is small
    assert scores.pairwise_recall <= scores.recall_ceiling + 1e-6 <= 1.0 + 1e-6, scores
    assert scores.recall_ceiling - scores.pairwise_recall < 0.02, scores
    assert scores.known is not None and scores.known.recall_ceiling >= scores.known.pairwise_recall - 1e-6


def test_shared_and_placeholder_identifiers_are_blocked(warehouse: Warehouse, built: Target):
    schema = relation_schema(built, "intermediate")
    blocked = dict(warehouse.query(
        f"select identifier_type || ':' || identifier_value, block_reason from {schema}.int_identity__identifiers "
        "where is_blocked"
    ))
    assert blocked.get("email:test@test.com") == "blocklist"
    kiosk = warehouse.query(
        f"select max(linked_user_id_count) from {schema}.int_identity__identifiers "
        "where identifier_type = 'anonymous_id' and block_reason = 'shared_across_user_id'"
    )[0][0]
    assert kiosk is not None and kiosk >= 20, "the kiosk's anonymous_id must be blocked as shared"
    components = warehouse.query(
        f"select max(n) from (select component_id, count(*) as n from {schema}.int_identity__components "
        "group by component_id) as sizes"
    )[0][0]
    assert components < 200, f"a component of {components} identifiers means shared values leaked through"


def test_every_staged_event_is_in_the_stream(warehouse: Warehouse, built: Target):
    """Every staged event, except those of customers who asked to be deleted."""
    marts = relation_schema(built, "marts")
    intermediate = relation_schema(built, "intermediate")
    events = count(warehouse, f"select count(*) from {marts}.customer_events")
    unioned = count(warehouse, f"select count(*) from {intermediate}.int_events__unioned")
    of_deleted = count(warehouse, f"""
        select count(*) from {intermediate}.int_events__unioned as e
        inner join {intermediate}.int_identity__records_resolved as r
            on e.source_table = r.source_table and e.record_id = r.record_id
        where r.customer_id in (select customer_id from {intermediate}.int_privacy__deleted_customers)
    """)
    attributed = count(warehouse, f"select count(*) from {marts}.customer_events where customer_id is not null")
    assert of_deleted > 0
    assert events == unioned - of_deleted > 0
    assert attributed / events > 0.85


def test_customers_match_the_known_people(warehouse: Warehouse, built: Target):
    from tests.python.conftest import CUSTOMERS

    marts = relation_schema(built, "marts")
    known = count(warehouse, f"select count(*) from {marts}.customers where not is_anonymous")
    buyers = count(warehouse, f"select count(*) from {marts}.customers where order_count > 0")
    assert 0.8 * CUSTOMERS <= known <= 1.6 * CUSTOMERS, known
    assert buyers > 0.3 * CUSTOMERS, buyers
    scored = count(warehouse, f"select count(*) from {marts}.customer_rfm_scores")
    assert scored == buyers


def test_sync_dry_run_plans_every_contact(warehouse: Warehouse, built: Target):
    plan = plan_sync(warehouse, HUBSPOT_CONTACTS, sample_size=3)
    marts = relation_schema(built, "marts")
    rows = count(warehouse, f"select count(*) from {marts}.crm_hubspot_contacts")
    assert plan.rows == plan.upserts == rows > 0
    assert plan.invalid_rows == 0
    assert plan.batches == math.ceil(rows / 100)
    assert len(plan.sample) == 3 and all("@" in row["email"] for row in plan.sample)
    assert plan.deletes == count(
        warehouse,
        f"select count(*) from {marts}.customer_deletions where identifier_type in ('crm_contact_id', 'email')",
    ) > 0


def test_deleted_customers_are_in_no_mart_but_listed_for_the_crm(warehouse: Warehouse, built: Target):
    marts = relation_schema(built, "marts")
    intermediate = relation_schema(built, "intermediate")
    deleted = f"select customer_id from {intermediate}.int_privacy__deleted_customers"
    assert count(warehouse, f"select count(*) from ({deleted}) as d") > 0
    # Every column of every mart that holds a customer id, except the list for the CRM to delete.
    columns = warehouse.query(
        f"select table_name, column_name from information_schema.columns where table_schema = '{marts}' "
        f"and column_name like '%customer_id' and table_name <> 'customer_deletions'"
    )
    checked = {table for table, _ in columns}
    assert {"customers", "customer_events", "customer_identifiers", "customer_consent", "crm_hubspot_contacts",
            "customer_features", "audience_memberships", "customer_id_changes", "customer_profiles_masked"} <= checked
    for mart, column in columns:
        leaked = count(warehouse, f"select count(*) from {marts}.{mart} where cast({column} as "
                                  f"varchar(64)) in ({deleted})")
        assert leaked == 0, (mart, column)
    listed = count(warehouse, f"select count(distinct customer_id) from {marts}.customer_deletions")
    with_keys = count(
        warehouse,
        f"select count(distinct customer_id) from {intermediate}.int_identity__customer_ids "
        f"where identifier_type in ('crm_contact_id', 'email', 'phone') and customer_id in ({deleted})",
    )
    assert listed == with_keys > 0


def test_consent_covers_every_customer_and_purpose(warehouse: Warehouse, built: Target):
    marts = relation_schema(built, "marts")
    customers = count(warehouse, f"select count(*) from {marts}.customers")
    rows = dict(warehouse.query(f"select consent_status, count(*) from {marts}.customer_consent group by 1"))
    assert sum(rows.values()) == 4 * customers
    assert rows.get("granted", 0) > 0 and rows.get("denied", 0) > 0 and rows.get("unknown", 0) > 0
    # an email-platform unsubscribe after every other statement leaves email denied
    contradicted = count(warehouse, f"""
        select count(*) from {marts}.customer_consent as c
        inner join (
            select customer_id, max(stated_at) as unsubscribed_at
            from {relation_schema(built, "intermediate")}.int_privacy__consent_statements
            where statement_source = 'email_platform:unsubscribe'
            group by customer_id
        ) as u on c.customer_id = u.customer_id
        where c.purpose = 'email' and c.decided_at <= u.unsubscribed_at and c.consent_status <> 'denied'
    """)
    assert contradicted == 0


def run_cli(target: Target, *args: str) -> str:
    env = {**__import__("os").environ, **target_environment(target)}
    out = subprocess.run([sys.executable, "-m", "cdp.cli", *args, "--target", target.name], env=env,
                         capture_output=True, text=True, cwd=PROJECT_DIR)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_cli_commands_end_with_one_json_line(built: Target):
    evaluation = json.loads(run_cli(built, "eval-identity").strip().splitlines()[-1])
    assert {"precision", "recall", "f1", "seconds", "over_merge_rate", "under_merge_rate"} <= set(evaluation)
    assert evaluation["f1"] == evaluation["pairwise_f1"] > 0
    plan = json.loads(run_cli(built, "sync", "hubspot", "--dry-run").strip().splitlines()[-1])
    assert plan["upserts"] > 0 and plan["match_key"] == "email"


@pytest.mark.postgres
def test_both_warehouses_give_the_same_answers(duckdb_built: Target, pg_built: Target):
    from cdp.warehouse import connect

    queries = {
        "customers": "select count(*), sum(order_count), round(sum(total_revenue), 2) from {marts}.customers",
        "known": "select count(*) from {marts}.customers where not is_anonymous",
        "events": "select count(*), count(customer_id) from {marts}.customer_events",
        "rejected": "select count(*) from {staging}.stg_pos__transactions_rejected",
        "identifiers": "select count(*), sum(case when is_blocked then 1 else 0 end) "
                       "from {intermediate}.int_identity__identifiers",
        "sync": "select count(*) from {marts}.crm_hubspot_contacts",
        "graph": "select count(*), count(distinct customer_id), "
                 "sum(case when match_type = 'probabilistic' then 1 else 0 end) from {marts}.customer_identifiers",
        "edges": "select count(*), sum(case when match_type = 'probabilistic' then 1 else 0 end) "
                 "from {intermediate}.int_identity__edges",
        "guards": "select count(*) from {intermediate}.int_identity__clusters where assigned_by <> 'connected'",
        "matching": "select count(*), sum(case when match_probability >= 0.99 then 1 else 0 end) "
                    "from {intermediate}.int_matching__scored_pairs",
        "ids": "select count(distinct customer_id) from {intermediate}.int_identity__customer_id_map",
        "emails": "select count(distinct email_key) from {staging}.stg_email__events",
        "consent": "select count(*), sum(case when consent_status = 'granted' then 1 else 0 end), "
                   "sum(case when consent_status = 'denied' then 1 else 0 end) from {marts}.customer_consent",
        "deletions": "select count(*), count(distinct customer_id) from {marts}.customer_deletions",
    }
    answers = {}
    for target in (duckdb_built, pg_built):
        wh = connect(target)
        try:
            names = {layer: relation_schema(target, layer) for layer in ("marts", "staging", "intermediate")}
            answers[target.type] = {
                key: [float(v) for v in wh.query(sql.format(**names))[0]] for key, sql in queries.items()
            }
            answers[target.type]["identity"] = evaluate_identity(wh).pairwise_f1
        finally:
            wh.close()
    assert answers["duckdb"] == answers["postgres"]


@pytest.mark.postgres
def test_every_table_model_is_analysed_as_it_is_built(pg_built: Target):
    """On Postgres each table model is analysed by the build itself (not left to autovacuum), so
    the models after it are planned on its real row counts. The tables of the SQL models only:
    not the models' own queue, state and work tables, nor what cdp.scoring writes."""
    sql_models = {path.stem for path in (PROJECT_DIR / "models").rglob("*.sql")}
    layers = [relation_schema(pg_built, layer) for layer in ("staging", "intermediate", "marts")]
    warehouse = connect(pg_built)
    try:
        rows = warehouse.query(
            "select schemaname, relname, last_analyze from pg_stat_user_tables "
            f"where schemaname in ({', '.join(repr(schema) for schema in layers)})")
    finally:
        warehouse.close()
    tables = [(schema, name, analysed) for schema, name, analysed in rows if name in sql_models]
    assert len(tables) > 40, tables
    assert [(schema, name) for schema, name, analysed in tables if analysed is None] == []
