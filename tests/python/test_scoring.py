"""Churn and purchase propensity, customer_scores, model_evaluations and next_best_action:
on both warehouses, without leakage, with an honest answer when labels are too few."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cdp.dbt_runner import run_dbt
from cdp.pipeline import predictive_tables
from cdp.scoring.clv import CLV_SCORE_MODEL_NAME
from cdp.scoring.customer_scores import assemble_customer_scores
from cdp.scoring.next_best_action import next_best_actions
from cdp.scoring.propensity import (
    CHURN,
    MIN_CLASS_COUNT,
    MODELS,
    PURCHASE_PROPENSITY,
    InsufficientLabels,
    as_bool,
    current_population,
    evaluations_frame,
    predict_probability,
    score_model,
    train_model,
)
from cdp.warehouse import Target, Warehouse, connect, relation_schema

PURCHASES = ("order_placed", "store_purchase")
OUTPUTS = ("customer_clv", "model_evaluations", "customer_scores", "next_best_action")


def frame(warehouse: Warehouse, sql: str) -> pd.DataFrame:
    return warehouse.query_arrow(sql).to_pandas()


def read_outputs(target: Target) -> dict[str, pd.DataFrame]:
    wh = connect(target, read_only=target.type == "duckdb")
    try:
        marts = relation_schema(target, "marts")
        return {name: frame(wh, f"select * from {marts}.{name}") for name in OUTPUTS}
    finally:
        wh.close()


# --- on each warehouse -----------------------------------------------------------------


def test_scoring_tables_are_built(warehouse: Warehouse, built: Target):
    marts = relation_schema(built, "marts")
    for name in OUTPUTS:
        assert warehouse.table_exists(marts, name), f"{marts}.{name} missing on {built.type}"
    scores = frame(warehouse, f"select model_name, count(*) as n from {marts}.customer_scores group by model_name")
    assert set(scores["model_name"]) == {CHURN, PURCHASE_PROPENSITY, CLV_SCORE_MODEL_NAME}
    assert (scores["n"] > 0).all()


def test_customer_clv_covers_every_buyer_with_sane_values(warehouse: Warehouse, built: Target):
    marts, work = relation_schema(built, "marts"), relation_schema(built, "intermediate")
    clv = frame(warehouse, f"select * from {marts}.customer_clv")
    buyers = frame(warehouse, f"select distinct customer_id from {work}.int_scoring__transactions")
    assert set(clv["customer_id"]) == set(buyers["customer_id"])
    assert clv["probability_alive"].astype(float).between(0, 1).all()
    assert (clv["expected_purchases"].astype(float) >= 0).all() and (clv["expected_value"].astype(float) >= 0).all()
    assert clv[["bgnbd_r", "bgnbd_alpha", "bgnbd_a", "bgnbd_b"]].astype(float).nunique().eq(1).all()
    # a buyer who has not bought for long is less likely alive than one of the same history who bought lately
    repeat = clv.loc[clv["frequency"].astype(float) >= 2].astype({"recency_weeks": float, "tenure_weeks": float})
    gap = repeat["tenure_weeks"] - repeat["recency_weeks"]
    alive = repeat["probability_alive"].astype(float)
    assert alive[gap <= gap.quantile(0.2)].mean() > alive[gap >= gap.quantile(0.8)].mean()
    scores = frame(warehouse, f"select customer_id, score from {marts}.customer_scores "
                              f"where model_name = '{CLV_SCORE_MODEL_NAME}'")
    merged = scores.merge(clv, on="customer_id")
    assert len(merged) == len(clv)
    np.testing.assert_allclose(merged["score"].astype(float), merged["expected_value"].astype(float), rtol=1e-9)


def test_model_evaluations_are_sane(warehouse: Warehouse, built: Target):
    marts, work = relation_schema(built, "marts"), relation_schema(built, "intermediate")
    evaluations = frame(warehouse, f"select * from {marts}.model_evaluations").set_index("model_name")
    examples = frame(warehouse, f"select * from {work}.int_scoring__training_examples")
    cutoffs = frame(warehouse, f"select * from {work}.int_scoring__cutoffs")
    assert len(cutoffs) == 1
    for spec in MODELS:
        row = evaluations.loc[spec.name]
        assert row["status"] == "ok", row["message"]
        assert 0.5 < row["auc"] <= 1 and 0.5 <= row["baseline_auc"] <= 1
        assert row["auc"] < 0.95, f"{spec.name} AUC {row['auc']}: look for leakage"
        assert 0 < row["brier"] < 0.25 and row["log_loss"] > 0 and row["top_decile_lift"] >= 1
        population = examples.loc[spec.population(examples)]
        for split, prefix in (("training", "train"), ("holdout", "holdout")):
            rows = population.loc[population["split_name"] == split]
            assert row[f"{prefix}_rows"] == len(rows)
            assert row[f"{prefix}_positives"] == int(rows[spec.label].astype(int).sum())
            assert MIN_CLASS_COUNT <= row[f"{prefix}_positives"] <= row[f"{prefix}_rows"] - MIN_CLASS_COUNT
        assert pd.Timestamp(row["holdout_cutoff_at"]) == pd.Timestamp(cutoffs["holdout_cutoff_at"].iloc[0])
        assert pd.Timestamp(row["training_cutoff_at"]) == pd.Timestamp(cutoffs["training_cutoff_at"].iloc[0])
        assert int(row["label_window_days"]) == int(cutoffs["label_window_days"].iloc[0])
        assert "days_since_last_order" in row["features_used"].split(",")
    # every scored customer is in the model's population as of the reference moment
    scores = frame(warehouse, f"select * from {marts}.customer_scores where model_name in ('{CHURN}', "
                              f"'{PURCHASE_PROPENSITY}')")
    assert scores["score"].between(0, 1).all()
    buyers = frame(warehouse, f"select customer_id from {work}.int_scoring__features_current where order_count > 0")
    assert set(scores.loc[scores["model_name"] == CHURN, "customer_id"]) == set(buyers["customer_id"])


def test_labels_come_only_from_the_window(warehouse: Warehouse, built: Target):
    """Recompute every label with pandas from customer_events and the split's window."""
    marts, work = relation_schema(built, "marts"), relation_schema(built, "intermediate")
    examples = frame(warehouse, f"select * from {work}.int_scoring__training_examples")
    orders = frame(warehouse, f"select customer_id, occurred_at from {marts}.customer_events "
                              f"where event_type in {PURCHASES!r} and customer_id is not null")
    orders["occurred_at"] = pd.to_datetime(orders["occurred_at"])
    for split, rows in examples.groupby("split_name"):
        start, end = pd.Timestamp(rows["cutoff_at"].iloc[0]), pd.Timestamp(rows["window_end_at"].iloc[0])
        assert end - start == pd.Timedelta(days=int(rows["label_window_days"].iloc[0]))
        assert (pd.to_datetime(rows["features_as_of"]) == start).all()
        in_window = orders.loc[(orders["occurred_at"] >= start) & (orders["occurred_at"] < end)]
        expected = rows["customer_id"].map(in_window.groupby("customer_id").size()).fillna(0).astype(int)
        assert (rows["orders_in_window"].astype(int).to_numpy() == expected.to_numpy()).all(), split
        assert (rows["purchase_label"].astype(int).to_numpy() == (expected > 0).astype(int).to_numpy()).all()
        buyers = rows["order_count"].astype(int) > 0
        churn = rows.loc[buyers, "churn_label"].astype(int).to_numpy()
        assert (churn == (expected[buyers] == 0).astype(int).to_numpy()).all(), split
        assert rows.loc[~buyers, "churn_label"].isna().all()


def test_next_best_action_respects_consent(warehouse: Warehouse, built: Target):
    marts = relation_schema(built, "marts")
    actions = frame(warehouse, f"select * from {marts}.next_best_action")
    consent = frame(warehouse, f"select customer_id, purpose, consent_status from {marts}.customer_consent")
    granted = set(zip(consent.loc[consent["consent_status"] == "granted", "customer_id"],
                      consent.loc[consent["consent_status"] == "granted", "purpose"], strict=True))
    acting = actions.loc[actions["action"] != "none"]
    assert len(acting) > 0
    for row in acting.itertuples():
        assert row.consent_purpose == row.channel  # every channel's purpose is its own name
        assert (row.customer_id, row.consent_purpose) in granted, row
    assert actions["customer_id"].is_unique
    assert actions.loc[actions["action"] == "none", "channel"].isna().all()


def test_python_models_and_cdp_score_are_one_code_path(duckdb_built: Target):
    """The DuckDB Python models wrote what pipeline.predictive_tables (Postgres path) computes."""
    wh = connect(duckdb_built, read_only=True)
    try:
        marts, work = relation_schema(duckdb_built, "marts"), relation_schema(duckdb_built, "intermediate")
        tables = predictive_tables(
            examples=frame(wh, f"select * from {work}.int_scoring__training_examples"),
            current_features=frame(wh, f"select * from {work}.int_scoring__features_current"),
            customers=frame(wh, f"select customer_id, is_anonymous from {marts}.customers"),
            consent=frame(wh, f"select customer_id, purpose, consent_status from {marts}.customer_consent"),
            transactions=frame(wh, f"select * from {work}.int_scoring__transactions"),
            cutoffs=frame(wh, f"select * from {work}.int_scoring__cutoffs").iloc[0],
        )
        built_scores = frame(wh, f"select * from {marts}.customer_scores")
    finally:
        wh.close()
    pd.testing.assert_frame_equal(
        tables["customer_scores"].sort_values(["model_name", "customer_id"]).reset_index(drop=True)[
            ["customer_id", "model_name", "score", "score_decile"]],
        built_scores.sort_values(["model_name", "customer_id"]).reset_index(drop=True)[
            ["customer_id", "model_name", "score", "score_decile"]],
    )


# --- across warehouses -------------------------------------------------------------------


@pytest.mark.postgres
def test_both_warehouses_score_alike(duckdb_built: Target, pg_built: Target):
    duck, pg = read_outputs(duckdb_built), read_outputs(pg_built)
    for name in OUTPUTS:
        assert len(duck[name]) == len(pg[name]), name
    keys = {"customer_scores": ["model_name", "customer_id"], "next_best_action": ["customer_id"],
            "model_evaluations": ["model_name"]}
    for name, key in keys.items():
        duck[name] = duck[name].sort_values(key).reset_index(drop=True)
        pg[name] = pg[name].sort_values(key).reset_index(drop=True)
    d, p = duck["customer_scores"], pg["customer_scores"]
    assert (d["customer_id"] == p["customer_id"]).all() and (d["model_name"] == p["model_name"]).all()
    np.testing.assert_allclose(d["score"].astype(float), p["score"].astype(float), atol=1e-6)
    assert (d["score_band"] == p["score_band"]).all()
    d, p = duck["next_best_action"], pg["next_best_action"]
    for column in ("customer_id", "action", "reason_code", "channel", "consent_purpose"):
        assert d[column].fillna("").tolist() == p[column].fillna("").tolist(), column
    d, p = duck["model_evaluations"], pg["model_evaluations"]
    for column in ("train_rows", "train_positives", "holdout_rows", "holdout_positives"):
        assert d[column].astype(int).tolist() == p[column].astype(int).tolist(), column
    for column in ("auc", "baseline_auc", "log_loss", "brier", "top_decile_lift"):
        np.testing.assert_allclose(d[column].astype(float), p[column].astype(float), atol=1e-6)
    assert d["features_used"].tolist() == p["features_used"].tolist()


# --- no leakage: what happens after a cutoff never reaches the features ------------------


def _alter_events_after(path: Path, schema: str, cutoff: str, window_end: str) -> None:
    import duckdb

    con = duckdb.connect(str(path))
    try:
        events = f"{schema}.customer_events"
        # after the training window: scramble types and revenue, move half of them about, drop some
        con.execute(f"""
            update {events} set
                revenue = coalesce(revenue, 0) * 7 + 13,
                event_type = case when hash(event_key) % 3 = 0 then 'order_placed' else event_type end
            where occurred_at >= timestamp '{window_end}'""")
        con.execute(f"delete from {events} where occurred_at >= timestamp '{window_end}' and hash(event_key) % 5 = 0")
        # inside the training window: change what was bought and when, but keep every purchase in it
        con.execute(f"""
            update {events} set revenue = coalesce(revenue, 0) + 100,
                event_name = 'altered'
            where occurred_at >= timestamp '{cutoff}' and occurred_at < timestamp '{window_end}'""")
        # a new customer-visible event stream after the cutoff (non-purchase, inside the window)
        con.execute(f"""
            insert into {events} (event_key, customer_id, occurred_at, event_type, event_name, channel, revenue,
                                  source_table, record_id)
            select 'leak:' || event_key, customer_id, timestamp '{cutoff}' + interval 1 hour, 'page_view', 'leak',
                   'web', 0, 'leak', record_id
            from {events} where customer_id is not null and occurred_at < timestamp '{cutoff}'
            limit 500""")
    finally:
        con.close()


def test_events_after_the_cutoff_do_not_change_training_features(duckdb_built: Target, tmp_path: Path):
    wh = connect(duckdb_built, read_only=True)
    work, marts = relation_schema(duckdb_built, "intermediate"), relation_schema(duckdb_built, "marts")
    try:
        cutoffs = frame(wh, f"select * from {work}.int_scoring__cutoffs")
        before = frame(wh, f"select * from {work}.int_scoring__training_examples where split_name = 'training'")
        columns = [c for c in frame(wh, f"select * from {marts}.customer_events limit 0").columns]
    finally:
        wh.close()
    assert {"event_key", "record_id", "source_table"} <= set(columns)
    reference = pd.Timestamp(cutoffs["reference_at"].iloc[0]).strftime("%Y-%m-%d %H:%M:%S")
    cutoff = pd.Timestamp(cutoffs["training_cutoff_at"].iloc[0]).strftime("%Y-%m-%d %H:%M:%S")
    window_end = pd.Timestamp(cutoffs["holdout_cutoff_at"].iloc[0]).strftime("%Y-%m-%d %H:%M:%S")

    copy = dataclasses.replace(duckdb_built, duckdb_path=tmp_path / "altered.duckdb")
    shutil.copy(duckdb_built.duckdb_path, copy.duckdb_path)
    _alter_events_after(copy.duckdb_path, marts, cutoff, window_end)
    # rebuild the scoring SQL over the altered events, cutoffs pinned to the same reference moment,
    # retraining this build (the schedule would keep the first build's examples)
    run_dbt(["build", "--select", "intermediate.scoring", "--vars",
             f"{{features_as_of: '{reference}', scoring_retrain_days: 0}}"],
            target=copy, target_path=str(tmp_path / "target"))

    wh = connect(copy, read_only=True)
    try:
        after = frame(wh, f"select * from {work}.int_scoring__training_examples where split_name = 'training'")
        altered_holdout_labels = frame(wh, f"select customer_id, purchase_label from {work}."
                                           "int_scoring__training_examples where split_name = 'holdout'")
    finally:
        wh.close()
    before = before.sort_values("customer_id").reset_index(drop=True)
    after = after.sort_values("customer_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(before, after, check_dtype=False)
    # ... while the holdout labels, which the altered events fall into, did change
    assert altered_holdout_labels["purchase_label"].astype(int).sum() > before["purchase_label"].astype(int).sum()


# --- unit tests on small frames ------------------------------------------------------------


def small_examples(n: int, positives_training: int, positives_holdout: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for split, cutoff, positives in (("training", "2026-01-01", positives_training),
                                     ("holdout", "2026-04-01", positives_holdout)):
        label = np.zeros(n, dtype=int)
        label[:positives] = 1
        days = np.where(label == 1, rng.integers(0, 60, n), rng.integers(30, 400, n)).astype(float)
        rows.append(pd.DataFrame({
            "split_name": split, "customer_id": [f"c{i:05d}" for i in range(n)],
            "features_as_of": pd.Timestamp(cutoff), "cutoff_at": pd.Timestamp(cutoff),
            "window_end_at": pd.Timestamp(cutoff) + pd.Timedelta(days=90), "label_window_days": 90,
            "is_known": True, "orders_in_window": label, "order_count": 1 + rng.integers(0, 5, n),
            "days_since_last_order": days, "sessions_90d": rng.integers(0, 5, n),
            "churn_label": 1 - label, "purchase_label": label,
        }))
    return pd.concat(rows, ignore_index=True)


def test_insufficient_labels_give_a_clear_message_and_no_scores():
    spec = next(s for s in MODELS if s.name == PURCHASE_PROPENSITY)
    examples = small_examples(n=400, positives_training=150, positives_holdout=40)
    model = train_model(spec, examples)
    assert model.estimator is None and model.evaluation["status"] == "insufficient_labels"
    message = model.evaluation["message"]
    assert "purchase_propensity" in message and "holdout" in message and "2026-04-01" in message
    assert "40 positives" in message and "360 negatives" in message
    assert model.evaluation["auc"] is None and model.to_artifact() is None
    current = examples.loc[examples["split_name"] == "holdout"]
    assert score_model(model, current).empty
    assembled = assemble_customer_scores([score_model(model, current)], scored_at=pd.Timestamp("2026-07-01"))
    assert assembled.empty
    evaluations = evaluations_frame([model])
    assert evaluations.loc[0, "status"] == "insufficient_labels" and pd.isna(evaluations.loc[0, "auc"])
    with pytest.raises(InsufficientLabels, match="churn: training split at cutoff x has 3 positives"):
        raise InsufficientLabels(CHURN, "training", "x", 3, 500)


def test_enough_labels_train_evaluate_and_score_deterministically():
    spec = next(s for s in MODELS if s.name == PURCHASE_PROPENSITY)
    examples = small_examples(n=600, positives_training=200, positives_holdout=200)
    first, second = train_model(spec, examples), train_model(spec, examples.sample(frac=1, random_state=3))
    assert first.evaluation["status"] == "ok" and 0.5 < first.evaluation["auc"] <= 1
    assert first.evaluation["auc"] == second.evaluation["auc"]
    current = examples.loc[examples["split_name"] == "holdout"]
    pd.testing.assert_frame_equal(score_model(first, current), score_model(second, current))


def test_prediction_in_pieces_over_threads_is_one_call_in_row_order(monkeypatch: pytest.MonkeyPatch):
    import cdp.scoring.propensity as propensity

    spec = next(s for s in MODELS if s.name == PURCHASE_PROPENSITY)
    examples = small_examples(n=600, positives_training=200, positives_holdout=200)
    trained = train_model(spec, examples)
    matrix = propensity._matrix(examples, trained.features)
    whole = trained.estimator.predict_proba(matrix)[:, 1]
    # pieces of 7 rows over three threads: 172 pieces of the 1,200 rows, the last one short
    monkeypatch.setattr(propensity, "PREDICT_CHUNK_ROWS", 7)
    pieces = predict_probability(trained.estimator, matrix, workers=3)
    assert len(pieces) == len(matrix) and np.array_equal(pieces, whole)
    # a reversed matrix gives the reversed answer: pieces are put back in row order
    assert np.array_equal(predict_probability(trained.estimator, matrix[::-1], workers=3), whole[::-1])
    assert np.array_equal(predict_probability(trained.estimator, matrix[:0], workers=3), whole[:0])


def nba_inputs() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    base = {"order_count": 0, "monetary_value": 0.0, "days_since_last_order": np.nan, "favourite_category": None,
            "tickets_rated_bad": 0, "days_since_last_ticket": np.nan, "sessions_90d": 0,
            "days_since_last_email_open": np.nan, "is_known": True, "features_as_of": pd.Timestamp("2026-07-01")}
    people = {
        "nurture_no_email": {"sessions_90d": 3},
        "nurture_email": {"sessions_90d": 3},
        "winback_sms_only": {"order_count": 4, "monetary_value": 900.0, "days_since_last_order": 300},
        "winback_none": {"order_count": 4, "monetary_value": 900.0, "days_since_last_order": 300},
        "cheap_buyer": {"order_count": 1, "monetary_value": 10.0, "days_since_last_order": 300},
        "service_email_denied": {"order_count": 1, "monetary_value": 10.0, "days_since_last_order": 5,
                                 "favourite_category": "shoes", "tickets_rated_bad": 1, "days_since_last_ticket": 3},
    }
    features = pd.DataFrame([{"customer_id": k, **base, **v} for k, v in people.items()])
    scores = pd.DataFrame([{"customer_id": k, "model_name": CHURN, "model_version": "1", "score": 0.9}
                           for k in ("winback_sms_only", "winback_none", "cheap_buyer", "service_email_denied")])
    consent = pd.DataFrame([
        ("nurture_no_email", "email", "denied"), ("nurture_email", "email", "granted"),
        ("winback_sms_only", "email", "unknown"), ("winback_sms_only", "sms", "granted"),
        ("service_email_denied", "email", "denied"), ("service_email_denied", "ads", "granted"),
    ], columns=["customer_id", "purpose", "consent_status"])
    return features, scores, consent


def test_next_best_action_rules_and_consent():
    features, scores, consent = nba_inputs()
    actions = next_best_actions(features, scores, consent, scored_at=pd.Timestamp("2026-07-01")).set_index(
        "customer_id")
    assert actions.loc["nurture_no_email", ["action", "reason_code", "channel"]].tolist() == [
        "none", "no_consent_for_nurture", None]
    assert actions.loc["nurture_email", ["action", "channel", "consent_purpose"]].tolist() == [
        "nurture", "email", "email"]
    assert actions.loc["winback_sms_only", ["action", "reason_code", "channel"]].tolist() == [
        "win_back", "high_churn_risk_high_value", "sms"]
    assert actions.loc["winback_none", "reason_code"] == "no_consent_for_win_back"
    assert actions.loc["cheap_buyer", "reason_code"] == "no_rule_matched"  # high churn, below median value
    # service follow-up needs email or sms: denied email, no sms -> falls through to cross_sell by ads
    assert actions.loc["service_email_denied", ["action", "channel"]].tolist() == ["cross_sell", "ads"]
    emailed = actions.loc[actions["channel"] == "email"].index
    granted = set(consent.loc[(consent["purpose"] == "email") & (consent["consent_status"] == "granted"),
                              "customer_id"])
    assert set(emailed) <= granted


def test_booleans_from_either_driver():
    assert as_bool(pd.Series(["t", "f", None, "true"])).tolist() == [True, False, False, True]
    features = pd.DataFrame({"customer_id": ["a", "b", "c"], "features_as_of": pd.Timestamp("2026-01-01")})
    customers = pd.DataFrame({"customer_id": ["a", "b"], "is_anonymous": ["f", "t"]})
    assert current_population(features, customers)["is_known"].tolist() == [True, False, False]
    # DuckDB's native booleans, and ids typed differently on the two sides (compared as text)
    features = pd.DataFrame({"customer_id": [1, 2, 3, 4], "features_as_of": pd.Timestamp("2026-01-01")})
    customers = pd.DataFrame({"customer_id": ["1", "2", "3"], "is_anonymous": [False, True, False]})
    assert current_population(features, customers)["is_known"].tolist() == [True, False, True, False]


def test_two_scores_of_one_model_for_a_customer_are_refused_within_and_across_frames():
    def frame(model: str, ids: list[str]) -> pd.DataFrame:
        return pd.DataFrame({"customer_id": ids, "model_name": model, "model_version": "1",
                             "score": np.linspace(0.1, 0.9, len(ids))})

    at = pd.Timestamp("2026-07-01")
    both = assemble_customer_scores([frame(CHURN, ["a", "b"]), frame(PURCHASE_PROPENSITY, ["a", "b"])], scored_at=at)
    assert sorted(zip(both["model_name"], both["customer_id"], strict=True)) == [
        (CHURN, "a"), (CHURN, "b"), (PURCHASE_PROPENSITY, "a"), (PURCHASE_PROPENSITY, "b")]
    with pytest.raises(ValueError, match=f"customer b has two {CHURN} scores"):
        assemble_customer_scores([frame(CHURN, ["a", "b", "b"])], scored_at=at)
    with pytest.raises(ValueError, match=f"customer a has two {CHURN} scores"):
        assemble_customer_scores([frame(CHURN, ["a", "b"]), frame(PURCHASE_PROPENSITY, ["a"]),
                                  frame(CHURN, ["c", "a"])], scored_at=at)
    mixed = pd.concat([frame(CHURN, ["a"]), frame(PURCHASE_PROPENSITY, ["a"]), frame(CHURN, ["a"])])
    with pytest.raises(ValueError, match=f"customer a has two {CHURN} scores"):
        assemble_customer_scores([mixed], scored_at=at)
