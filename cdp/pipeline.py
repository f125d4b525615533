"""The whole build in the right order on either warehouse.

DuckDB: `dbt build` runs everything, the Python scoring models included.
Postgres: `dbt build` runs the SQL models and tests (dbt-postgres runs no Python models),
then the same cdp.scoring functions score in this process and write the same tables:
customer_rfm_scores, and customer_clv, model_evaluations, customer_scores and next_best_action
from the purchase log, point-in-time examples and current features the intermediate scoring
models built in dbt.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import pyarrow as pa

from cdp.dbt_runner import run_dbt
from cdp.scoring import rfm_scores
from cdp.scoring.clv import clv_score_frame, customer_clv_table
from cdp.scoring.customer_scores import assemble_customer_scores
from cdp.scoring.next_best_action import next_best_actions
from cdp.scoring.propensity import (
    current_population,
    evaluations_frame,
    kept_evaluations,
    score_models,
    train_models,
    trained_from_evaluations,
)
from cdp.warehouse import ConfigError, Target, connect, relation_schema

PREDICTIVE_INPUTS = ("int_scoring__cutoffs", "int_scoring__retraining", "int_scoring__training_examples",
                     "int_scoring__features_current", "int_scoring__transactions")


def predictive_tables(
    examples: pd.DataFrame | None, current_features: pd.DataFrame, customers: pd.DataFrame, consent: pd.DataFrame,
    transactions: pd.DataFrame, cutoffs: pd.Series, kept: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """customer_clv, model_evaluations, customer_scores and next_best_action, as the DuckDB
    Python models build them (python_models/scoring), with each model trained once, or not at
    all when `kept` (the previous model_evaluations, cdp.scoring.propensity.kept_evaluations)
    holds the models this build keeps; examples are then not needed."""
    reference_at = cutoffs["reference_at"]
    clv, reason = customer_clv_table(transactions, reference_at, int(cutoffs["clv_horizon_days"]))
    if reason:
        print(f"customer_clv: no lifetime values this build: {reason}")
    if kept is None and examples is None:
        raise ValueError("predictive_tables: training examples are needed when no models are kept")
    trained = trained_from_evaluations(kept) if kept is not None else train_models(examples)
    current = current_population(current_features, customers)
    frames = [*score_models(trained, current), clv_score_frame(clv)]
    scores = assemble_customer_scores(frames, scored_at=reference_at)
    return {
        "customer_clv": clv,
        "model_evaluations": kept if kept is not None else evaluations_frame(trained, with_artifacts=True),
        "customer_scores": scores,
        "next_best_action": next_best_actions(current, scores, consent, scored_at=reference_at),
    }


def score(target: Target) -> int:
    """Write customer_rfm_scores, customer_clv, model_evaluations, customer_scores and next_best_action
    into the marts schema; returns the customer_rfm_scores rows written."""
    warehouse = connect(target)
    try:
        schema = relation_schema(target, "marts")
        work = relation_schema(target, "intermediate")
        if not warehouse.table_exists(schema, "customers"):
            raise ConfigError(f"{schema}.customers is missing: build the project first")
        customers = warehouse.query_arrow(
            f"select customer_id, order_count, total_revenue, last_order_at from {schema}.customers"
        ).to_pandas()
        scores = rfm_scores(customers)
        warehouse.replace_table(schema, "customer_rfm_scores", pa.Table.from_pandas(scores, preserve_index=False))
        missing = [name for name in PREDICTIVE_INPUTS if not warehouse.table_exists(work, name)]
        if missing:
            raise ConfigError(f"{work}: {', '.join(missing)} missing: build the project first")

        def read(sql: str) -> pd.DataFrame:
            return warehouse.query_arrow(sql).to_pandas()

        previous = (read(f"select * from {schema}.model_evaluations")
                    if warehouse.table_exists(schema, "model_evaluations") else None)
        kept = kept_evaluations(read(f"select * from {work}.int_scoring__retraining"), previous)
        tables = predictive_tables(
            examples=None if kept is not None else read(f"select * from {work}.int_scoring__training_examples"),
            kept=kept,
            current_features=read(f"select * from {work}.int_scoring__features_current"),
            customers=read(f"select customer_id, is_anonymous from {schema}.customers"),
            consent=read(f"select customer_id, purpose, consent_status from {schema}.customer_consent"),
            transactions=read(f"select * from {work}.int_scoring__transactions"),
            cutoffs=read(f"select * from {work}.int_scoring__cutoffs").iloc[0],
        )
        for name, frame in tables.items():
            warehouse.replace_table(schema, name, pa.Table.from_pandas(frame, preserve_index=False))
        return len(scores)
    finally:
        warehouse.close()


# Models that read customer_scores: on Postgres they are built again once `cdp score` wrote it.
SCORE_READERS = "crm_hubspot_contacts"


def build(target: Target, full_refresh: bool = False, dbt_args: Sequence[str] = ()) -> None:
    """dbt build, then, where dbt could not run the Python models, the scoring and a rebuild of
    the models that read the scores (the CRM sync models)."""
    run_dbt(["build", *(["--full-refresh"] if full_refresh else []), *dbt_args], target=target)
    if target.type == "postgres":
        score(target)
        run_dbt(["build", "--select", SCORE_READERS], target=target)
