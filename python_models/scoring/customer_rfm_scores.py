"""RFM score per buying customer (DuckDB; on Postgres `cdp score` runs the same function)."""

from cdp.scoring.rfm import REQUIRED_COLUMNS, rfm_scores


def model(dbt, session):
    dbt.config(materialized="table")
    customers = dbt.ref("customers").project(", ".join(REQUIRED_COLUMNS)).df()
    return rfm_scores(customers)
