"""Every predictive score per customer, long format (DuckDB; on Postgres `cdp score` runs the
same functions). Scores with the models model_evaluations fitted: nothing is trained here."""

from cdp.scoring.clv import clv_score_frame
from cdp.scoring.customer_scores import assemble_customer_scores
from cdp.scoring.propensity import current_population, score_models, scoring_columns, trained_from_evaluations


def model(dbt, session):
    dbt.config(materialized="table")
    trained = trained_from_evaluations(dbt.ref("model_evaluations").df())
    customers = dbt.ref("customers").project("customer_id, is_anonymous").df()
    features = dbt.ref("int_scoring__features_current").project(", ".join(scoring_columns(trained))).df()
    current = current_population(features, customers)
    reference_at = dbt.ref("int_scoring__cutoffs").df()["reference_at"].iloc[0]
    frames = [*score_models(trained, current), clv_score_frame(dbt.ref("customer_clv").df())]
    return assemble_customer_scores(frames, scored_at=reference_at)
