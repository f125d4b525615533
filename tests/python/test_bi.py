"""What BI tools and analysts read, on both warehouses: enforced contracts on the public marts,
exposures, the semantic layer (MetricFlow's `mf query` against independent SQL over the
marts), the analyses in analyses/, and a clean `dbt docs generate`.

Everything runs against the session's built worlds (conftest.py); nothing is rebuilt. Per
warehouse, `dbt docs generate` writes the manifest, the semantic manifest and the compiled
analyses into a temporary artefact folder, and `mf` reads them from a temporary project folder
whose target/ points there (mf always reads <project>/target/semantic_manifest.json, and the
manifest names the warehouse's database, so each warehouse needs its own).
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import pytest

from cdp.dbt_runner import run_dbt, target_environment
from cdp.warehouse import PROJECT_DIR, Target, connect, relation_schema

PUBLIC_MARTS = {
    "customers", "customer_events", "customer_features", "customer_profiles_masked",
    "customer_identifiers", "identity_health", "customer_id_changes", "customer_consent",
    "customer_deletions", "audience_memberships", "crm_hubspot_contacts",
}
# Declared in full but enforced only once macros/features/customer_features.sql casts its
# day counts, average_order_value and email_campaigns_sent to the contract's types.
CONTRACT_PENDING: set[str] = set()

ANALYSES = ["cohort_retention", "audience_overlap", "identity_health", "channel_mix", "identity_cluster_sizes"]
ORDER_TYPES = "('order_placed', 'store_purchase')"
REVENUE_TYPES = "('order_placed', 'store_purchase', 'store_return')"


@dataclasses.dataclass(frozen=True)
class BiArtifacts:
    target: Target
    target_path: Path  # dbt artefacts of `dbt docs generate` on this warehouse
    mf_project: Path  # folder mf runs in: dbt_project.yml, profiles.yml and target/ -> target_path
    docs_output: str
    manifest: dict


def tool_environment(target: Target, log_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DBT_TARGET")}
    env.update(target_environment(target))
    env.update({"CDP_TARGET": target.name, "PGTZ": "UTC", "DBT_LOG_PATH": str(log_path),
                "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"})
    return env


@pytest.fixture(scope="session")
def bi(built: Target, tmp_path_factory: pytest.TempPathFactory) -> BiArtifacts:
    root = tmp_path_factory.mktemp(f"bi_{built.name}")
    target_path = root / "target"
    completed = run_dbt(["docs", "generate"], target=built, check=False, capture=True,
                        target_path=str(target_path))
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-4000:]
    mf_project = root / "mf"
    mf_project.mkdir()
    for name in ("dbt_project.yml", "profiles.yml"):
        (mf_project / name).symlink_to(PROJECT_DIR / name)
    (mf_project / "target").symlink_to(target_path)
    manifest = json.loads((target_path / "manifest.json").read_text())
    return BiArtifacts(built, target_path, mf_project, output, manifest)


def mf_query(bi: BiArtifacts, metrics: Sequence[str], group_by: Sequence[str] = ()) -> list[dict[str, str]]:
    """Rows of `mf query` (as text) on the fixture's warehouse."""
    out = bi.mf_project / f"mf_{'_'.join(metrics)}_{'_'.join(group_by)}.csv"[:200]
    command = [str(Path(sys.executable).parent / "mf"), "query", "--metrics", ",".join(metrics), "--csv", str(out)]
    if group_by:
        command += ["--group-by", ",".join(group_by)]
    completed = subprocess.run(command, cwd=bi.mf_project, env=tool_environment(bi.target, bi.mf_project / "logs"),
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0 and out.exists(), completed.stdout[-3000:] + completed.stderr[-3000:]
    with out.open() as handle:
        return list(csv.DictReader(handle))


def query(target: Target, sql: str) -> list[tuple]:
    """Run SQL and close the connection at once (dbt and mf cannot open a DuckDB file held open)."""
    warehouse = connect(target)
    try:
        return warehouse.query(sql)
    finally:
        warehouse.close()


def number(text: str | None) -> float:
    return float(text) if text not in (None, "") else 0.0


def month_key(value) -> str:
    return str(value)[:7]  # YYYY-MM from a date, a timestamp or mf's ISO text


# --------------------------------------------------------------------------------------------
# Contracts
# --------------------------------------------------------------------------------------------

def test_every_public_sql_mart_declares_its_contract(bi: BiArtifacts):
    models = {node["name"]: node for node in bi.manifest["nodes"].values()
              if node["resource_type"] == "model" and node["original_file_path"].startswith("models/marts/")
              and node["language"] == "sql"}
    assert set(models) >= PUBLIC_MARTS, PUBLIC_MARTS - set(models)
    for name, node in models.items():
        if name not in PUBLIC_MARTS:
            continue  # a mart added since (crm_salesforce_contacts): its author adds it here with its contract
        enforced = node["config"]["contract"]["enforced"]
        assert enforced is (name not in CONTRACT_PENDING), name
        assert node["columns"], name
        untyped = [column for column, spec in node["columns"].items() if not spec.get("data_type")]
        assert not untyped, f"{name}: columns without data_type: {untyped}"
        if node["config"]["materialized"] == "incremental" or name == "customer_events":
            assert node["config"]["on_schema_change"] in ("append_new_columns", "fail"), name


def test_contract_columns_match_the_built_marts(bi: BiArtifacts):
    """The contract lists exactly the columns each mart has, in the order the mart has them."""
    schema = relation_schema(bi.target, "marts")
    rows = query(bi.target, "select table_name, column_name from information_schema.columns "
                            f"where table_schema = '{schema}' order by table_name, ordinal_position")
    built: dict[str, list[str]] = {}
    for table, column in rows:
        built.setdefault(table, []).append(column)
    for node in bi.manifest["nodes"].values():
        if node["resource_type"] == "model" and node["name"] in PUBLIC_MARTS:
            assert list(node["columns"]) == built[node["name"]], node["name"]


def test_a_wrong_contract_type_is_refused_at_build_time(bi: BiArtifacts, tmp_path: Path):
    """In a copy of the project whose customer_consent contract says statement_count is text,
    dbt refuses to build the model; with that contract not enforced the same model builds, so
    the contract is what refused it. The copy builds into a scratch schema: the session's marts
    are never touched."""
    copy = tmp_path / "project"
    copy.mkdir()
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(PROJECT_DIR / name, copy / name)
    for name in ("models", "macros", "seeds", "analyses", "python_models"):
        shutil.copytree(PROJECT_DIR / name, copy / name)
    yml = copy / "models" / "marts" / "privacy" / "_privacy__models.yml"
    text = yml.read_text()
    replacements = [
        ("{name: statement_count, data_type: bigint,", "{name: statement_count, data_type: varchar,"),
        ("  - name: customer_consent\n    config:\n",
         "  - name: customer_consent\n    config:\n      schema: bi_contract_probe\n"),
    ]
    for old, new in replacements:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    yml.write_text(text)

    def run() -> subprocess.CompletedProcess:
        command = [str(Path(sys.executable).parent / "dbt"), "run", "--select", "customer_consent",
                   "--project-dir", str(copy), "--profiles-dir", str(copy), "--target", bi.target.name,
                   "--target-path", str(tmp_path / "target")]
        return subprocess.run(command, cwd=copy, env=tool_environment(bi.target, tmp_path / "logs"),
                              capture_output=True, text=True, timeout=600)

    refused = run()
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0, output[-3000:]
    assert "enforced contract" in output and "statement_count" in output, output[-3000:]

    probe = "      schema: bi_contract_probe\n      contract:\n        enforced: true\n"
    assert text.count(probe) == 1
    yml.write_text(text.replace(probe, "      schema: bi_contract_probe\n      contract:\n        enforced: false\n"))
    accepted = run()
    assert accepted.returncode == 0, (accepted.stdout + accepted.stderr)[-3000:]


# --------------------------------------------------------------------------------------------
# Exposures and docs
# --------------------------------------------------------------------------------------------

def test_exposures_name_their_owner_and_what_they_read(bi: BiArtifacts):
    exposures = {node["name"]: node for node in bi.manifest["exposures"].values()}
    assert {"customer_overview_dashboard", "audience_dashboard", "identity_health_dashboard",
            "hubspot_contact_sync"} <= set(exposures)
    for name, exposure in exposures.items():
        assert exposure["owner"]["email"] and exposure["type"] and exposure["maturity"], name
        assert exposure["description"].strip(), name
        assert exposure["depends_on"]["nodes"], name
    sync = exposures["hubspot_contact_sync"]["depends_on"]["nodes"]
    assert sorted(sync) == ["model.cdp.crm_hubspot_contacts", "model.cdp.customer_consent",
                            "model.cdp.customer_deletions"]


def test_docs_generate_is_clean(bi: BiArtifacts):
    assert (bi.target_path / "catalog.json").exists()
    noisy = [line for line in bi.docs_output.splitlines() if "WARN" in line.upper() or "ERROR" in line.upper()]
    assert not noisy, noisy


# --------------------------------------------------------------------------------------------
# Semantic layer: mf query against independent SQL over the marts
# --------------------------------------------------------------------------------------------

def test_mf_monthly_revenue_orders_and_active_customers_match_the_marts(bi: BiArtifacts):
    rows = mf_query(bi, ["revenue", "order_count", "average_order_value", "active_customers", "buying_customers"],
                    ["metric_time__month"])
    marts = relation_schema(bi.target, "marts")
    month = "cast(date_trunc('month', occurred_at) as date)"
    expected = {
        month_key(m): (float(revenue or 0), int(orders), int(active), int(buyers))
        for m, revenue, orders, active, buyers in query(bi.target, f"""
            select
                {month} as order_month,
                sum(case when event_type in {REVENUE_TYPES} then revenue end),
                sum(case when event_type in {ORDER_TYPES} then 1 else 0 end),
                count(distinct customer_id),
                count(distinct case when event_type in {ORDER_TYPES} then customer_id end)
            from {marts}.customer_events
            group by {month}
        """)
    }
    got = {month_key(row["metric_time__month"]): row for row in rows}
    assert set(got) == set(expected)
    assert len(expected) >= 12
    for key, (revenue, orders, active, buyers) in expected.items():
        row = got[key]
        assert number(row["revenue"]) == pytest.approx(revenue, abs=0.01), key
        assert int(number(row["order_count"])) == orders, key
        assert int(number(row["active_customers"])) == active, key
        assert int(number(row["buying_customers"])) == buyers, key
        if orders:
            assert number(row["average_order_value"]) == pytest.approx(revenue / orders, rel=1e-6), key
    # all months together: the golden record's totals plus the orders attributed to no customer
    total_revenue, total_orders = query(
        bi.target, f"select sum(total_revenue), sum(order_count) from {marts}.customers")[0]
    unattributed_revenue, unattributed_orders = query(bi.target, f"""
        select
            coalesce(sum(case when event_type in {REVENUE_TYPES} then revenue end), 0),
            sum(case when event_type in {ORDER_TYPES} then 1 else 0 end)
        from {marts}.customer_events
        where customer_id is null
    """)[0]
    assert sum(number(r["order_count"]) for r in rows) == total_orders + unattributed_orders
    assert sum(number(r["revenue"]) for r in rows) == pytest.approx(
        float(total_revenue + unattributed_revenue), abs=0.05)


def test_mf_churn_rate_and_customers_match_the_marts(bi: BiArtifacts):
    rows = mf_query(bi, ["churn_rate", "churned_customers", "customers_with_orders", "customers"])
    assert len(rows) == 1
    marts = relation_schema(bi.target, "marts")
    churned, buyers, customers = query(bi.target, f"""
        select
            sum(case when lifecycle_stage in ('at_risk', 'lapsed') then 1 else 0 end),
            sum(case when order_count > 0 then 1 else 0 end),
            count(*)
        from {marts}.customers
    """)[0]
    row = rows[0]
    assert int(number(row["churned_customers"])) == churned
    assert int(number(row["customers_with_orders"])) == buyers
    assert int(number(row["customers"])) == customers
    assert 0 < churned < buyers
    assert number(row["churn_rate"]) == pytest.approx(churned / buyers, rel=1e-6)


def test_mf_audience_sizes_match_the_memberships(bi: BiArtifacts):
    rows = mf_query(bi, ["audience_members", "audience_entries"], ["audience_stay__audience_name"])
    marts = relation_schema(bi.target, "marts")
    expected = {name: (int(members), int(stays)) for name, members, stays in query(bi.target, f"""
        select audience_name, sum(case when is_member then 1 else 0 end), count(*)
        from {marts}.audience_memberships
        group by audience_name
    """)}
    got = {row["audience_stay__audience_name"]: (int(number(row["audience_members"])),
                                                 int(number(row["audience_entries"]))) for row in rows}
    assert got == expected
    assert sum(members for members, _ in got.values()) > 0


# --------------------------------------------------------------------------------------------
# Analyses
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("analysis", ANALYSES)
def test_analysis_compiles_and_runs(bi: BiArtifacts, analysis: str):
    compiled = bi.target_path / "compiled" / "cdp" / "analyses" / f"{analysis}.sql"
    assert compiled.exists(), f"{analysis} was not compiled"
    sql = compiled.read_text()
    assert "{{" not in sql and "ref(" not in sql
    rows = query(bi.target, sql)
    assert rows, analysis


def test_analyses_read_marts_only():
    for analysis in ANALYSES:
        if analysis == "identity_cluster_sizes":
            continue  # older analysis over the intermediate components
        text = (PROJECT_DIR / "analyses" / f"{analysis}.sql").read_text()
        refs = [part.split("'")[1] for part in text.split("ref(")[1:]]
        assert refs and all(ref in PUBLIC_MARTS for ref in refs), (analysis, refs)


def test_analysis_figures_agree_with_the_semantic_layer(bi: BiArtifacts):
    """channel_mix and cohort_retention, summed up, give the marts' own totals."""
    base = bi.target_path / "compiled" / "cdp" / "analyses"
    channel_mix = query(bi.target, (base / "channel_mix.sql").read_text())
    cohorts = query(bi.target, (base / "cohort_retention.sql").read_text())
    overlap = query(bi.target, (base / "audience_overlap.sql").read_text())
    marts = relation_schema(bi.target, "marts")
    revenue, orders = query(bi.target, f"select sum(case when event_type in {REVENUE_TYPES} then revenue end), "
                                       f"sum(case when event_type in {ORDER_TYPES} then 1 else 0 end) "
                                       f"from {marts}.customer_events")[0]
    assert sum(Decimal(str(row[3])) for row in channel_mix) == pytest.approx(Decimal(str(revenue)))
    assert sum(row[2] for row in channel_mix) == orders
    buyers = query(bi.target, f"select count(*) from {marts}.customers where first_order_at is not null")[0][0]
    assert sum(row[2] for row in cohorts if row[1] == 0) == buyers
    assert all(float(row[4]) == 1.0 for row in cohorts if row[1] == 0)
    assert all(0 <= float(row[4]) <= 1 for row in cohorts)
    audiences = query(bi.target, f"select count(distinct audience_name) from {marts}.audience_memberships "
                                 "where is_member")[0][0]
    assert len(overlap) == audiences * (audiences - 1) // 2
