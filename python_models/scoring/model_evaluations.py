"""Churn and purchase propensity: train on the time split, evaluate on the holdout, keep the
fitted models (model_artifact) for customer_scores. DuckDB; on Postgres `cdp score` runs the
same cdp.scoring.propensity functions."""

from cdp.scoring.propensity import evaluations_frame, train_models


def model(dbt, session):
    dbt.config(materialized="table")
    examples = dbt.ref("int_scoring__training_examples").df()
    return evaluations_frame(train_models(examples), with_artifacts=True)
