"""The whole build in the right order on either warehouse.

DuckDB: `dbt build` runs everything, the Python scoring models included.
Postgres: `dbt build` runs the SQL models and tests (dbt-postgres runs no Python models),
then the same cdp.scoring functions score in this process and write the same tables.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from cdp.dbt_runner import run_dbt
from cdp.scoring import rfm_scores
from cdp.warehouse import ConfigError, Target, connect, relation_schema


def score(target: Target) -> int:
    """Write customer_rfm_scores from the customers mart; returns the rows written."""
    warehouse = connect(target)
    try:
        schema = relation_schema(target, "marts")
        if not warehouse.table_exists(schema, "customers"):
            raise ConfigError(f"{schema}.customers is missing: build the project first")
        customers = warehouse.query_arrow(
            f"select customer_id, order_count, total_revenue, last_order_at from {schema}.customers"
        ).to_pandas()
        scores = rfm_scores(customers)
        warehouse.replace_table(schema, "customer_rfm_scores", pa.Table.from_pandas(scores, preserve_index=False))
        return len(scores)
    finally:
        warehouse.close()


def build(target: Target, full_refresh: bool = False, dbt_args: Sequence[str] = ()) -> None:
    """dbt build, then the scoring dbt could not run on this warehouse."""
    run_dbt(["build", *(["--full-refresh"] if full_refresh else []), *dbt_args], target=target)
    if target.type == "postgres":
        score(target)
