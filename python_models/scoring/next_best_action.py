"""Next best action per known customer from customer_scores, features and consent (DuckDB; on
Postgres `cdp score` runs the same function)."""

from cdp.scoring.next_best_action import FEATURE_COLUMNS, next_best_actions
from cdp.scoring.propensity import current_population


def model(dbt, session):
    dbt.config(materialized="table")
    customers = dbt.ref("customers").project("customer_id, is_anonymous").df()
    features = dbt.ref("int_scoring__features_current").project(", ".join(FEATURE_COLUMNS)).df()
    current = current_population(features, customers)
    scores = dbt.ref("customer_scores").project("customer_id, model_name, score").df()
    # only granted statements count: the others need not leave the warehouse
    consent = (dbt.ref("customer_consent").filter("consent_status = 'granted'")
               .project("customer_id, purpose, consent_status").df())
    reference_at = dbt.ref("int_scoring__cutoffs").df()["reference_at"].iloc[0]
    return next_best_actions(current, scores, consent, scored_at=reference_at)
