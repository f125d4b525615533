"""The churn and purchase propensity models are retrained on a schedule (var scoring_retrain_days):
a build between keeps the models, their evaluation rows and their training data, and scores the
current features with the kept models; once the reference moment has moved far enough, or on
--full-refresh, the models are trained again. Runs on a copy of the session's DuckDB world.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cdp.dbt_runner import run_dbt
from cdp.pipeline import predictive_tables
from cdp.scoring.propensity import (
    MODELS,
    current_population,
    evaluations_frame,
    kept_evaluations,
    score_model,
    train_models,
    trained_from_evaluations,
)
from cdp.warehouse import Target, connect, relation_schema

SCORING = ["intermediate.scoring", "model_evaluations", "customer_scores"]


def read(target: Target, sql: str) -> pd.DataFrame:
    warehouse = connect(target, read_only=True)
    try:
        return warehouse.query_arrow(sql).to_pandas()
    finally:
        warehouse.close()


def scoring_build(target: Target, folder: Path, dbt_vars: dict, *extra: str) -> None:
    run_dbt(["build", "--select", *SCORING, "--vars", json.dumps(dbt_vars), *extra], target=target,
            target_path=str(folder / "target"))


def moment(value: object, days: int = 0) -> str:
    return (pd.Timestamp(value) + pd.Timedelta(days=days)).strftime("%Y-%m-%d %H:%M:%S")


def state(target: Target) -> dict[str, pd.DataFrame]:
    work, marts = relation_schema(target, "intermediate"), relation_schema(target, "marts")
    return {
        "retraining": read(target, f"select * from {work}.int_scoring__retraining"),
        "evaluations": read(target, f"select * from {marts}.model_evaluations order by model_name"),
        "examples": read(target, f"select * from {work}.int_scoring__training_examples "
                                 "order by split_name, customer_id"),
        "training_features": read(target, f"select * from {work}.int_scoring__features_at_training "
                                          "order by customer_id"),
        "current": read(target, f"select * from {work}.int_scoring__features_current"),
        "customers": read(target, f"select customer_id, is_anonymous from {marts}.customers"),
        "scores": read(target, f"select * from {marts}.customer_scores"),
    }


@pytest.fixture(scope="module")
def schedule(duckdb_built: Target, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The session world's state, then a build a day later (one customer asked to be deleted
    meanwhile), then a build seven days after the first."""
    folder = tmp_path_factory.mktemp("retraining")
    world = dataclasses.replace(duckdb_built, duckdb_path=folder / "cdp.duckdb")
    shutil.copy(duckdb_built.duckdb_path, world.duckdb_path)
    first = state(world)
    reference = first["retraining"]["reference_at"].iloc[0]
    forgotten = str(first["examples"]["customer_id"].iloc[0])
    warehouse = connect(world)
    try:
        # as the privacy models would after a deletion request resolving to this customer
        warehouse.execute(f"insert into {relation_schema(world, 'intermediate')}.int_privacy__deleted_customers "
                          f"(customer_id, request_count) values ('{forgotten}', 1)")
    finally:
        warehouse.close()
    scoring_build(world, folder, {"features_as_of": moment(reference, 1)})
    next_day = state(world)
    scoring_build(world, folder, {"features_as_of": moment(reference, 7)})
    week_later = state(world)
    return {"world": world, "folder": folder, "reference": reference, "forgotten": forgotten,
            "first": first, "next_day": next_day, "week_later": week_later}


def test_first_build_trained_the_models(schedule: dict):
    retraining = schedule["first"]["retraining"].iloc[0]
    assert bool(retraining["retrain"]) and retraining["reason"] == "no_kept_models"
    assert set(schedule["first"]["evaluations"]["status"]) == {"ok"}


def test_a_build_before_the_schedule_keeps_models_and_training_data(schedule: dict):
    first, later = schedule["first"], schedule["next_day"]
    retraining = later["retraining"].iloc[0]
    assert not bool(retraining["retrain"]) and retraining["reason"] == "kept_models_current"
    assert pd.Timestamp(retraining["trained_reference_at"]) == pd.Timestamp(schedule["reference"])
    assert pd.Timestamp(retraining["reference_at"]) == pd.Timestamp(schedule["reference"]) + pd.Timedelta(days=1)
    # the same rows, fitted models included
    pd.testing.assert_frame_equal(first["evaluations"], later["evaluations"])
    # the same training data, less the customer who asked to be deleted
    forgotten = schedule["forgotten"]
    for name in ("examples", "training_features"):
        expected = first[name].loc[first[name]["customer_id"] != forgotten].reset_index(drop=True)
        assert len(expected) < len(first[name]), name
        pd.testing.assert_frame_equal(expected, later[name])


def test_a_build_before_the_schedule_scores_current_features_with_the_kept_models(schedule: dict):
    later = schedule["next_day"]
    current = current_population(later["current"], later["customers"])
    assert pd.Timestamp(current["features_as_of"].iloc[0]) > pd.Timestamp(schedule["reference"])
    for model in trained_from_evaluations(schedule["first"]["evaluations"]):
        expected = score_model(model, current).set_index("customer_id")["score"]
        written = later["scores"].loc[later["scores"]["model_name"] == model.name].set_index("customer_id")["score"]
        assert len(expected) > 100 and set(written.index) == set(expected.index), model.name
        np.testing.assert_allclose(written.loc[expected.index].astype(float), expected.astype(float), rtol=1e-12)


def test_the_models_are_retrained_once_the_reference_moved_the_schedules_days(schedule: dict):
    later = schedule["week_later"]
    retraining = later["retraining"].iloc[0]
    assert bool(retraining["retrain"]) and retraining["reason"] == "schedule_due"
    moved = pd.Timestamp(schedule["reference"]) + pd.Timedelta(days=7)
    assert (pd.to_datetime(later["evaluations"]["evaluated_at"]) == moved).all()
    training_cutoffs = set(pd.to_datetime(later["examples"]["features_as_of"]).unique())
    assert training_cutoffs == {moved - pd.Timedelta(days=90), moved - pd.Timedelta(days=180)}


def test_full_refresh_and_a_zero_schedule_retrain(schedule: dict):
    world, folder = schedule["world"], schedule["folder"]
    dbt_vars = {"features_as_of": moment(schedule["reference"], 8)}  # one day after the last training
    work = relation_schema(world, "intermediate")
    run_dbt(["build", "--select", "int_scoring__retraining", "--vars", json.dumps(dbt_vars)], target=world,
            target_path=str(folder / "target"))
    assert read(world, f"select reason from {work}.int_scoring__retraining").iloc[0, 0] == "kept_models_current"
    for extra, reason in (({"scoring_retrain_days": 0}, "every_build"), ({}, "full_refresh")):
        flags = [] if extra else ["--full-refresh"]
        run_dbt(["build", "--select", "int_scoring__retraining", "--vars", json.dumps({**dbt_vars, **extra}),
                 *flags], target=world, target_path=str(folder / "target"))
        assert read(world, f"select reason from {work}.int_scoring__retraining").iloc[0, 0] == reason


def test_a_negative_schedule_is_a_config_error_naming_the_var(schedule: dict):
    completed = run_dbt(["compile", "--select", "int_scoring__retraining", "--vars", "{scoring_retrain_days: -1}"],
                        target=schedule["world"], target_path=str(schedule["folder"] / "target"),
                        check=False, capture=True)
    assert completed.returncode != 0
    assert "dbt_project.yml vars: scoring_retrain_days '-1'" in completed.stdout + completed.stderr


# --- kept_evaluations and cdp score's use of it, on frames -------------------------------------


def _trained_frame(seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    rows = []
    for split, cutoff in (("training", "2026-01-01"), ("holdout", "2026-04-01")):
        start = pd.Timestamp(cutoff)
        for i in range(1500):
            orders = int(rng.integers(0, 6))
            bought = rng.random() < (0.2 + 0.1 * orders)
            rows.append({"split_name": split, "customer_id": f"c{i}", "features_as_of": start,
                         "cutoff_at": start, "window_end_at": start + pd.Timedelta(days=90),
                         "label_window_days": 90, "is_known": True, "order_count": orders,
                         "days_since_last_order": None if orders == 0 else int(rng.integers(1, 400)),
                         "monetary_value": 40.0 * orders, "favourite_category": None,
                         "tickets_rated_bad": int(rng.integers(0, 2)),
                         "days_since_last_ticket": int(rng.integers(1, 300)),
                         "days_since_last_email_open": int(rng.integers(1, 300)),
                         "sessions_90d": int(rng.integers(0, 9)), "orders_in_window": int(bought),
                         "churn_label": None if orders == 0 else int(not bought), "purchase_label": int(bought)})
    examples = pd.DataFrame(rows)
    return examples, evaluations_frame(train_models(examples), with_artifacts=True)


def test_kept_evaluations_keep_only_complete_current_models():
    _, evaluations = _trained_frame()
    keep = pd.DataFrame({"retrain": [False]})
    assert kept_evaluations(keep, evaluations) is not None
    assert kept_evaluations(pd.DataFrame({"retrain": [True]}), evaluations) is None
    assert kept_evaluations(keep, None) is None
    assert kept_evaluations(keep, evaluations.assign(model_version="0")) is None  # other code version
    assert kept_evaluations(keep, evaluations.iloc[:1]) is None  # a model missing
    assert kept_evaluations(keep, evaluations.assign(model_artifact=None)) is None  # fitted models lost
    # Postgres hands booleans over as text
    assert kept_evaluations(pd.DataFrame({"retrain": ["f"]}), evaluations) is not None


def test_cdp_score_with_kept_models_trains_nothing_and_writes_them_back():
    examples, evaluations = _trained_frame()
    current = examples.loc[examples["split_name"] == "holdout"].drop(columns=["split_name"])
    customers = pd.DataFrame({"customer_id": current["customer_id"], "is_anonymous": False})
    consent = pd.DataFrame(columns=["customer_id", "purpose", "consent_status"])
    transactions = pd.DataFrame({"customer_id": pd.Series(dtype=str), "ordered_at": pd.Series(dtype="datetime64[ns]"),
                                 "revenue": pd.Series(dtype=float)})
    cutoffs = pd.Series({"reference_at": pd.Timestamp("2026-07-01"), "clv_horizon_days": 365})
    tables = predictive_tables(None, current, customers, consent, transactions, cutoffs, kept=evaluations)
    pd.testing.assert_frame_equal(tables["model_evaluations"], evaluations.sort_values("model_name")
                                  .reset_index(drop=True))
    assert set(tables["customer_scores"]["model_name"]) >= {spec.name for spec in MODELS}
    with pytest.raises(ValueError, match="training examples are needed"):
        predictive_tables(None, current, customers, consent, transactions, cutoffs)
