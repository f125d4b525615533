"""Churn and purchase propensity classifiers trained on a time split, evaluated, then scored.

Input: the labelled examples of int_scoring__training_examples (features as of a training
cutoff and, one label window later, a holdout cutoff; labels from the window after each) and
the current features of int_scoring__features_current (as of the reference moment).

Each model is a small HistGradientBoostingClassifier (100 trees of at most 7 leaves of at
least 100 customers; fixed random_state, no early stopping, so the same examples always give
the same model) over every numeric behavioural feature; missing
values (no order yet, no ticket yet) stay missing and the trees route them. The procedure:

1. fit on the training split, evaluate on the holdout split: AUC, log loss, Brier score,
   expected calibration error and a 10-bin reliability table, top-decile lift, and the AUC of
   a recency-only baseline (days since the last order) on the same holdout rows;
2. refit the same estimator on the training and holdout splits together (the most recent
   labelled behaviour, twice the examples) and score the current features with it.

A model whose training or holdout split holds fewer than MIN_CLASS_COUNT positives or
negatives is not fitted: its evaluation row says why (status insufficient_labels) and it
produces no scores.
"""

from __future__ import annotations

import base64
import json
import os
import pickle
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score
from threadpoolctl import threadpool_limits

MODEL_VERSION = "1"
CHURN = "churn"
PURCHASE_PROPENSITY = "purchase_propensity"
MIN_CLASS_COUNT = 100
RANDOM_STATE = 20240601
CALIBRATION_BINS = 10
# Each fit uses at most this many examples (a seeded sample); evaluation uses the whole holdout.
MAX_FIT_ROWS = 200_000

# Columns of the examples and features that are not model inputs: keys, moments, labels.
NON_FEATURE_COLUMNS = frozenset({
    "split_name", "customer_id", "features_as_of", "cutoff_at", "window_end_at", "label_window_days",
    "is_known", "orders_in_window", "churn_label", "purchase_label",
})
# Text features left out of this version (a favourite channel or category names no behaviour).
CATEGORY_COLUMNS = frozenset({"favourite_channel", "favourite_category"})


def as_bool(values: pd.Series) -> pd.Series:
    """Booleans from either driver: DuckDB gives bool, Postgres (COPY text) 't'/'f'."""
    if pd.api.types.is_bool_dtype(values):
        return values
    text = values.astype("object").map(lambda v: None if v is None or v is pd.NA else str(v).strip().lower())
    return text.isin({"t", "true", "1", "1.0"})


class InsufficientLabels(ValueError):
    """Too few positives or negatives to train or evaluate a model honestly."""

    def __init__(self, model_name: str, split_name: str, cutoff: object, positives: int, negatives: int) -> None:
        self.model_name, self.split_name, self.cutoff = model_name, split_name, cutoff
        self.positives, self.negatives = positives, negatives
        super().__init__(
            f"{model_name}: {split_name} split at cutoff {cutoff} has {positives} positives and {negatives} "
            f"negatives; at least {MIN_CLASS_COUNT} of each are needed, so no {model_name} scores were produced"
        )


@dataclass(frozen=True)
class ModelSpec:
    """A binary classifier: its label column, its population and its recency baseline."""

    name: str
    label: str
    description: str
    # True: higher days_since_last_order means more likely positive (churn).
    baseline_recency_positive: bool

    def population(self, frame: pd.DataFrame) -> pd.Series:
        if self.name == CHURN:
            return frame["order_count"].fillna(0) > 0
        return as_bool(frame["is_known"])


MODELS = (
    ModelSpec(CHURN, "churn_label", "buyers who place no order in the next window", True),
    ModelSpec(PURCHASE_PROPENSITY, "purchase_label", "known customers who order in the next window", False),
)


@dataclass
class TrainedModel:
    """The outcome of training one model: its evaluation row and, when fitted, the estimator."""

    name: str
    evaluation: dict
    estimator: HistGradientBoostingClassifier | None = None
    features: list[str] = field(default_factory=list)

    def to_artifact(self) -> str | None:
        """The fitted estimator and its feature list, pickled and base64-encoded."""
        if self.estimator is None:
            return None
        return base64.b64encode(pickle.dumps({"estimator": self.estimator, "features": self.features})).decode()

    @staticmethod
    def from_evaluation_row(row: dict) -> TrainedModel:
        """Rebuild from a model_evaluations row written by this build (artifact column)."""
        artifact = row.get("model_artifact")
        if artifact is None or (isinstance(artifact, float) and np.isnan(artifact)):
            return TrainedModel(str(row["model_name"]), dict(row))
        # trusted: written by this build's own model_evaluations (see the column docs)
        payload = pickle.loads(base64.b64decode(artifact))
        return TrainedModel(str(row["model_name"]), dict(row), payload["estimator"], list(payload["features"]))


def feature_columns(examples: pd.DataFrame) -> list[str]:
    """Model inputs, sorted: every column but keys, labels, moments (*_at) and category names.

    Decided by name, not dtype, so both warehouses (whose drivers type an all-null column
    differently) always give the same list.
    """
    return sorted(
        column for column in examples.columns
        if column not in NON_FEATURE_COLUMNS and column not in CATEGORY_COLUMNS and not column.endswith("_at")
    )


def feature_values(values: pd.Series) -> np.ndarray:
    """One feature as float64, missing as NaN: numeric columns directly, others (Postgres
    numerics arrive as Decimal objects) through to_numeric."""
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "fiub":
        return values.to_numpy(dtype="float64")  # NumPy columns hold no NA but NaN
    if pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        return values.to_numpy(dtype="float64", na_value=np.nan)
    return pd.to_numeric(values.astype("object"), errors="coerce").astype("float64").to_numpy()


def _matrix(frame: pd.DataFrame, features: Sequence[str]) -> np.ndarray:
    """Features as float64, missing as NaN (filled column by column: no per-column copies)."""
    matrix = np.empty((len(frame), len(features)), dtype="float64")
    for index, column in enumerate(features):
        matrix[:, index] = feature_values(frame[column])
    return matrix


def _fit_sample(frame: pd.DataFrame) -> pd.DataFrame:
    """At most MAX_FIT_ROWS rows to fit on, drawn with a fixed seed from rows in customer order
    (so every warehouse and rebuild draws the same ones). Past a few hundred thousand examples
    the trees gain nothing measurable, and the fit time grows with the rows."""
    if len(frame) <= MAX_FIT_ROWS:
        return frame
    return frame.sample(n=MAX_FIT_ROWS, random_state=RANDOM_STATE).sort_index()


def _estimator() -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(
        learning_rate=0.05, max_iter=100, max_leaf_nodes=7, min_samples_leaf=100, l2_regularization=1.0,
        early_stopping=False, random_state=RANDOM_STATE,
    )


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in customer order, so both warehouses feed the estimator identical arrays."""
    return frame.sort_values("customer_id", kind="mergesort").reset_index(drop=True)


def top_decile_lift(y: np.ndarray, score: np.ndarray) -> float:
    """Positive rate among the 10% highest scores over the overall positive rate (stable ties)."""
    order = np.lexsort((np.arange(len(score)), -score))
    top = order[: max(1, int(np.ceil(len(score) * 0.1)))]
    return float(y[top].mean() / y.mean())


def reliability_table(y: np.ndarray, probability: np.ndarray, bins: int = CALIBRATION_BINS) -> list[dict]:
    """Equal-width probability bins: rows, mean predicted probability, observed positive rate."""
    index = np.minimum((probability * bins).astype(int), bins - 1)
    table = []
    for b in range(bins):
        mask = index == b
        if mask.any():
            table.append({"bin": f"{b / bins:.1f}-{(b + 1) / bins:.1f}", "rows": int(mask.sum()),
                          "mean_predicted": round(float(probability[mask].mean()), 4),
                          "observed_rate": round(float(y[mask].mean()), 4)})
    return table


def expected_calibration_error(table: list[dict]) -> float:
    total = sum(row["rows"] for row in table)
    return float(sum(row["rows"] / total * abs(row["mean_predicted"] - row["observed_rate"]) for row in table))


def recency_baseline_score(frame: pd.DataFrame, churn_direction: bool) -> np.ndarray:
    """The recency-only baseline: days since the last order (never ordered = longest ago)."""
    days = pd.to_numeric(frame["days_since_last_order"], errors="coerce").astype("float64").to_numpy()
    days = np.where(np.isnan(days), 1e9, days)
    return days if churn_direction else -days


def _check_counts(spec: ModelSpec, split_name: str, cutoff: object, y: np.ndarray) -> None:
    positives, negatives = int(y.sum()), int(len(y) - y.sum())
    if positives < MIN_CLASS_COUNT or negatives < MIN_CLASS_COUNT:
        raise InsufficientLabels(spec.name, split_name, cutoff, positives, negatives)


def _first(frame: pd.DataFrame, column: str) -> object:
    return frame[column].iloc[0] if len(frame) and column in frame.columns else None


def train_model(spec: ModelSpec, examples: pd.DataFrame, evaluated_at: datetime | None = None) -> TrainedModel:
    """Fit on the training split, evaluate on the holdout split, refit on both (see module doc)."""
    examples = examples.loc[spec.population(examples)]
    train = _sorted(examples.loc[examples["split_name"] == "training"])
    holdout = _sorted(examples.loc[examples["split_name"] == "holdout"])
    features = feature_columns(examples)
    y_train = train[spec.label].astype("int64").to_numpy()
    y_holdout = holdout[spec.label].astype("int64").to_numpy()
    training_cutoff, holdout_cutoff = _first(train, "cutoff_at"), _first(holdout, "cutoff_at")
    window = _first(train, "label_window_days") if len(train) else _first(holdout, "label_window_days")
    evaluation: dict = {
        "model_name": spec.name,
        "model_version": MODEL_VERSION,
        "model_type": "HistGradientBoostingClassifier",
        "training_cutoff_at": training_cutoff,
        "holdout_cutoff_at": holdout_cutoff,
        "label_window_days": None if window is None else int(window),
        "train_rows": len(train),
        "train_positives": int(y_train.sum()),
        "holdout_rows": len(holdout),
        "holdout_positives": int(y_holdout.sum()),
        "auc": None, "baseline_auc": None, "auc_lift_over_baseline": None, "log_loss": None,
        "brier": None, "expected_calibration_error": None, "top_decile_lift": None,
        "calibration_table": None,
        "fit_rows": None,
        "refit_rows": None,
        "features_used": ",".join(features),
        "status": "ok",
        "message": None,
        # the end of the holdout window (the reference moment): read from the data, so rebuilds agree
        "evaluated_at": evaluated_at if evaluated_at is not None else _first(holdout, "window_end_at"),
    }
    try:
        _check_counts(spec, "training", training_cutoff, y_train)
        _check_counts(spec, "holdout", holdout_cutoff, y_holdout)
    except InsufficientLabels as error:
        evaluation.update(status="insufficient_labels", message=str(error))
        return TrainedModel(spec.name, evaluation, None, features)

    fit_train = _fit_sample(train)
    estimator = _estimator().fit(_matrix(fit_train, features), fit_train[spec.label].astype("int64").to_numpy())
    probability = predict_probability(estimator, _matrix(holdout, features))
    auc = float(roc_auc_score(y_holdout, probability))
    baseline_auc = float(roc_auc_score(y_holdout, recency_baseline_score(holdout, spec.baseline_recency_positive)))
    table = reliability_table(y_holdout, probability)
    evaluation.update(
        auc=round(auc, 6),
        baseline_auc=round(baseline_auc, 6),
        auc_lift_over_baseline=round(auc - baseline_auc, 6),
        log_loss=round(float(log_loss(y_holdout, probability, labels=[0, 1])), 6),
        brier=round(float(brier_score_loss(y_holdout, probability)), 6),
        expected_calibration_error=round(expected_calibration_error(table), 6),
        top_decile_lift=round(top_decile_lift(y_holdout, probability), 6),
        calibration_table=json.dumps(table),
    )
    both = _fit_sample(pd.concat([train, holdout], ignore_index=True))
    final = _estimator().fit(_matrix(both, features), both[spec.label].astype("int64").to_numpy())
    evaluation.update(fit_rows=len(fit_train), refit_rows=len(both))
    return TrainedModel(spec.name, evaluation, final, features)


def train_models(examples: pd.DataFrame, models: Sequence[ModelSpec] = MODELS) -> list[TrainedModel]:
    """Train and evaluate every model (each independently: one lacking labels stops no other).

    One OpenMP thread: these are small fits, and on a busy machine more threads made them
    twenty times slower (spinning workers), for the same model.
    """
    with threadpool_limits(limits=1):
        return [train_model(spec, examples) for spec in models]


EVALUATION_COLUMNS = (
    "model_name", "model_version", "model_type", "training_cutoff_at", "holdout_cutoff_at", "label_window_days",
    "train_rows", "train_positives", "holdout_rows", "holdout_positives", "auc", "baseline_auc",
    "auc_lift_over_baseline", "log_loss", "brier", "expected_calibration_error", "top_decile_lift",
    "calibration_table", "fit_rows", "refit_rows", "features_used", "status", "message", "evaluated_at",
)


def evaluations_frame(trained: Sequence[TrainedModel], with_artifacts: bool = True) -> pd.DataFrame:
    """model_evaluations: one row per model (plus model_artifact, the fitted estimator, when asked)."""
    rows = []
    for model in trained:
        row = {column: model.evaluation.get(column) for column in EVALUATION_COLUMNS}
        if with_artifacts:
            row["model_artifact"] = model.to_artifact()
        rows.append(row)
    frame = pd.DataFrame(rows, columns=[*EVALUATION_COLUMNS, *(["model_artifact"] if with_artifacts else [])])
    for column in ("training_cutoff_at", "holdout_cutoff_at", "evaluated_at"):
        frame[column] = pd.to_datetime(frame[column])
    for column in ("auc", "baseline_auc", "auc_lift_over_baseline", "log_loss", "brier",
                   "expected_calibration_error", "top_decile_lift"):
        frame[column] = frame[column].astype("float64")
    for column in ("train_rows", "train_positives", "holdout_rows", "holdout_positives"):
        frame[column] = frame[column].astype("int64")
    for column in ("label_window_days", "fit_rows", "refit_rows"):
        frame[column] = frame[column].astype("Int64")
    return frame.sort_values("model_name").reset_index(drop=True)


def trained_from_evaluations(evaluations: pd.DataFrame) -> list[TrainedModel]:
    """The models a model_evaluations frame (with model_artifact) describes."""
    return [TrainedModel.from_evaluation_row(row) for row in evaluations.to_dict("records")]


def kept_evaluations(retraining: pd.DataFrame, kept: pd.DataFrame | None) -> pd.DataFrame | None:
    """The previous build's model_evaluations when this build keeps its models, else None.

    retraining: int_scoring__retraining (one row; retrain says whether the schedule, a full
    refresh or a change asks for new models). Kept models are also retrained when they come
    from another version of this code, do not cover every model, or lost a fitted artifact.
    """
    if kept is None or kept.empty or retraining.empty or bool(as_bool(retraining["retrain"]).iloc[0]):
        return None
    if set(kept["model_version"].astype(str)) != {MODEL_VERSION}:
        return None
    if set(kept["model_name"].astype(str)) != {spec.name for spec in MODELS} or kept["model_name"].duplicated().any():
        return None
    fitted = kept["status"].astype(str).eq("ok")
    if "model_artifact" not in kept or kept.loc[fitted, "model_artifact"].isna().any():
        return None
    return kept.sort_values("model_name").reset_index(drop=True)


def current_population(features: pd.DataFrame, customers: pd.DataFrame) -> pd.DataFrame:
    """int_scoring__features_current plus is_known (customers.is_anonymous is false): the
    frame score_model and next_best_actions read."""
    known_ids = customers.loc[~as_bool(customers["is_anonymous"]).to_numpy(), "customer_id"].astype(str)
    frame = features.assign(customer_id=features["customer_id"].astype(str))
    frame["is_known"] = frame["customer_id"].isin(known_ids)  # a hash set: no index built or checked
    return frame


def scoring_columns(trained: Sequence[TrainedModel]) -> list[str]:
    """The columns of int_scoring__features_current that scoring `trained` reads: keys, the
    population's columns and each fitted model's features (a reader fetches only these)."""
    features = {column for model in trained if model.estimator is not None for column in model.features}
    return sorted({"customer_id", "features_as_of", "order_count", *features})


def score_model(model: TrainedModel, current: pd.DataFrame, spec: ModelSpec | None = None) -> pd.DataFrame:
    """Scores (probabilities) of one fitted model over its population in the current features.

    current: int_scoring__features_current plus is_known. A model without an estimator
    (insufficient labels) scores no one.
    """
    columns = ["customer_id", "model_name", "model_version", "score", "features_as_of"]
    if model.estimator is None:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    spec = spec or next(s for s in MODELS if s.name == model.name)
    # each row's probability depends on that row alone: no need to sort the population first
    population = current.loc[spec.population(current)]
    missing = [c for c in model.features if c not in population.columns]
    if missing:
        raise ValueError(f"{model.name}: current features lack column(s) {missing} the model was trained on")
    probability = predict_probability(model.estimator, _matrix(population, model.features))
    return pd.DataFrame({
        "customer_id": population["customer_id"].astype(str),
        "model_name": model.name,
        "model_version": str(model.evaluation.get("model_version") or MODEL_VERSION),
        "score": np.round(probability, 6),
        "features_as_of": pd.to_datetime(population["features_as_of"]),
    })


# Rows per piece when predicting: several pieces per thread, so the threads finish together.
PREDICT_CHUNK_ROWS = 50_000


def _predict_piece(estimator: HistGradientBoostingClassifier, matrix: np.ndarray) -> np.ndarray:
    # the OpenMP limit is per thread: each worker sets its own
    with threadpool_limits(limits=1):
        return estimator.predict_proba(matrix)[:, 1]


def predict_probability(estimator: HistGradientBoostingClassifier, matrix: np.ndarray,
                        workers: int | None = None) -> np.ndarray:
    """The positive class's probability for each row of `matrix`, in row order.

    The rows go in pieces of PREDICT_CHUNK_ROWS to a pool of Python threads (one per core; the
    trees' loops release the GIL), each predicting on one OpenMP thread. Each row's probability
    depends on that row alone, so the result is the one predict_proba gives in one call. The
    churn and propensity scores of 1.4M customers on two cores: 6.6 s, against 15.6 s in one
    call per model on one OpenMP thread. Not two OpenMP threads in one call: they meet at a
    barrier after every tree and spin there when the other core is busy (how the fits got
    twenty times slower, see train_models). No rows: no probabilities."""
    if len(matrix) == 0:
        return np.empty(0, dtype="float64")  # sklearn refuses zero rows; no one to score
    workers = workers or os.cpu_count() or 1
    bounds = [*range(0, len(matrix), PREDICT_CHUNK_ROWS), len(matrix)]
    if workers == 1 or len(bounds) <= 2:
        return _predict_piece(estimator, matrix)
    with ThreadPoolExecutor(max_workers=min(workers, len(bounds) - 1)) as pool:
        pieces = pool.map(lambda start, end: _predict_piece(estimator, matrix[start:end]), bounds[:-1], bounds[1:])
        return np.concatenate(list(pieces))


def score_models(trained: Sequence[TrainedModel], current: pd.DataFrame) -> list[pd.DataFrame]:
    """One score frame per model (empty for a model that could not be trained)."""
    with threadpool_limits(limits=1):
        return [score_model(model, current) for model in trained]
