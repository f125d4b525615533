"""RFM score per buying customer (DuckDB; on Postgres `cdp score` runs the same function)."""

from cdp.scoring import rfm_scores


def model(dbt, session):
    dbt.config(materialized="table")
    customers = dbt.ref("customers").df()
    return rfm_scores(customers)
