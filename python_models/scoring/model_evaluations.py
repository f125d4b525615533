"""Churn and purchase propensity: train on the time split, evaluate on the holdout, keep the
fitted models (model_artifact) for customer_scores. DuckDB; on Postgres `cdp score` runs the
same cdp.scoring.propensity functions.

Trained on a schedule: when int_scoring__retraining says this build keeps the models, the
previous build's rows (and fitted models) are written again unchanged, and the training
examples, kept too, are not read."""

from cdp.scoring.propensity import evaluations_frame, kept_evaluations, train_models


def previous_rows(dbt, session):
    """This model's table as the previous build left it, or None on the first build."""
    this = dbt.this
    exists = session.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [this.schema, this.identifier],
    ).fetchall()[0][0]
    return session.sql(f"select * from {this}").df() if exists else None


def model(dbt, session):
    dbt.config(materialized="table")
    kept = kept_evaluations(dbt.ref("int_scoring__retraining").df(), previous_rows(dbt, session))
    if kept is not None:
        return kept
    examples = dbt.ref("int_scoring__training_examples").df()
    return evaluations_frame(train_models(examples), with_artifacts=True)
