"""Customer lifetime value: BG/NBD + Gamma-Gamma fitted on the purchase log (DuckDB; on Postgres
`cdp score` runs the same function). Horizon: var clv_horizon_days."""

from cdp.scoring.clv import customer_clv_table


def model(dbt, session):
    dbt.config(materialized="table")
    transactions = dbt.ref("int_scoring__transactions").df()
    cutoffs = dbt.ref("int_scoring__cutoffs").df().iloc[0]
    table, reason = customer_clv_table(transactions, cutoffs["reference_at"], int(cutoffs["clv_horizon_days"]))
    if reason:
        print(f"customer_clv: no lifetime values this build: {reason}")
    return table
