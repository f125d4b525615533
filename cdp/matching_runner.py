"""Run the project's probabilistic matcher (the dbt models tagged `matching`) on any table of
person records, outside the customer pipeline: used by `cdp eval-matching` and the benchmarks.

The input table has the canonical columns: record_id (text) and any of first_name,
last_name, birth_date, address_line, city, postcode, phone, email (text); other columns
(true_entity_id, say) are carried along but never read by the matcher. Missing columns are
not compared, and blocking rules that need them are skipped.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from cdp.contract import project_vars
from cdp.dbt_runner import run_dbt
from cdp.warehouse import ConfigError, Target, connect, ensure_pg_database, relation_schema

CANONICAL_COLUMNS = ("first_name", "last_name", "birth_date", "address_line", "city", "postcode", "phone", "email")
INPUT_SCHEMA = "cdp_matching_input"
INPUT_TABLE = "person_records"
# Standalone runs keep their own dbt artefacts: their vars differ from the pipeline's, and a
# shared folder would make every run parse the whole project again.
TARGET_PATH = "target/matching"


@dataclass
class MatchResult:
    clusters: dict[str, str]          # record_id -> cluster id (every input record appears)
    candidate_pairs: int              # pairs the blocking rules produced
    matched_pairs: int                # pairs at or above the threshold
    columns: list[str]                # canonical columns that were compared
    seconds: float                    # dbt build of the matching models (load and read-back excluded)


DERIVED_KEYS = {
    "first_initial": "first_name", "last_name_prefix": "last_name", "birth_year": "birth_date",
    "email_local": "email", "phone_last7": "phone", "street_number": "address_line", "first_name_formal": "first_name",
}


def _project_rules() -> list[list[str]]:
    return [list(rule) for rule in project_vars()["matching_blocking_rules"]]


DEFAULT_BLOCKING_RULES: list[list[str]] = _project_rules()


def usable_rules(columns: list[str], rules: list[list[str]] | None = None) -> list[list[str]]:
    """The blocking rules whose keys all derive from available columns."""
    return [rule for rule in (rules or DEFAULT_BLOCKING_RULES)
            if all(DERIVED_KEYS.get(key, key) in columns for key in rule)]


def prepare_input(records: pa.Table) -> tuple[pa.Table, list[str]]:
    """The canonical input table (all columns, text; missing ones null) and the compared columns."""
    if "record_id" not in records.column_names:
        raise ConfigError(f"person records: no record_id column (columns: {records.column_names})")
    ids = records.column("record_id").cast(pa.string())
    if ids.null_count:
        raise ConfigError("person records: record_id is empty on some rows")
    if pc.count_distinct(ids).as_py() != len(ids):
        raise ConfigError("person records: record_id is not unique")
    columns = [c for c in CANONICAL_COLUMNS if c in records.column_names]
    if not columns:
        raise ConfigError(f"person records: none of the canonical columns {list(CANONICAL_COLUMNS)} is present")
    data = {"record_id": ids}
    for column in CANONICAL_COLUMNS:
        if column in records.column_names:
            data[column] = records.column(column).cast(pa.string())
        else:
            data[column] = pa.nulls(len(records), pa.string())
    return pa.table(data), columns


def _variables(columns: list[str], threshold: float | None) -> dict:
    variables: dict = {"matching_input_relation": f"{INPUT_SCHEMA}.{INPUT_TABLE}", "matching_columns": columns}
    if threshold is not None:
        variables["matching_threshold_probability"] = threshold
    return variables


def parse_matching_project(target: Target, columns: list[str], threshold: float | None = None) -> float:
    """Parse the dbt project for a standalone run on these columns (what a deployment does once);
    the following run_probabilistic_matching with the same columns then skips the full parse.
    Returns the seconds it took."""
    started = time.monotonic()
    run_dbt(["parse", "--vars", json.dumps(_variables(columns, threshold))], target=target, capture=True,
            target_path=TARGET_PATH)
    return time.monotonic() - started


def run_probabilistic_matching(target: Target, records: pa.Table, threshold: float | None = None) -> MatchResult:
    """Load `records` into the warehouse, build the matching models on it, return the clusters."""
    table, columns = prepare_input(records)
    if target.type == "postgres":
        ensure_pg_database(target)
    warehouse = connect(target)
    try:
        warehouse.replace_table(INPUT_SCHEMA, INPUT_TABLE, table)
    finally:
        warehouse.close()
    started = time.monotonic()
    run_dbt(["build", "--select", "+tag:matching", "--exclude", "resource_type:test",
             "--vars", json.dumps(_variables(columns, threshold))],
            target=target, capture=True, target_path=TARGET_PATH)
    seconds = time.monotonic() - started
    schema = relation_schema(target, "intermediate")
    warehouse = connect(target)
    try:
        limit = threshold if threshold is not None else project_vars()["matching_threshold_probability"]
        rows = warehouse.query(
            f"select record_profiles.record_id, cast(clusters.component_id as varchar) "
            f"from {schema}.int_matching__record_profiles as record_profiles "
            f"inner join {schema}.int_matching__profiles as profiles "
            f"on record_profiles.profile_key = profiles.profile_key "
            f"inner join {schema}.int_matching__clusters as clusters on profiles.profile_id = clusters.node_id"
        )
        candidate_pairs = int(warehouse.query(f"select count(*) from {schema}.int_matching__candidate_pairs")[0][0])
        matched_pairs = int(warehouse.query(
            f"select count(*) from {schema}.int_matching__scored_pairs where match_probability >= {float(limit)}"
        )[0][0])
    finally:
        warehouse.close()
    clusters = {record_id: cluster for record_id, cluster in rows}
    # Records the matcher did not consider (no name, or a name alone) stand alone.
    for record_id in table.column("record_id").to_pylist():
        clusters.setdefault(record_id, f"alone:{record_id}")
    return MatchResult(clusters=clusters, candidate_pairs=candidate_pairs, matched_pairs=matched_pairs,
                       columns=columns, seconds=seconds)
