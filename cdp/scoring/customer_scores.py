"""customer_scores: every predictive model's score per customer, in one long table.

Each model contributes a frame with customer_id, model_name, model_version and score (any
scale: probabilities, lifetime value in currency). `assemble_customer_scores` stacks them,
ranks each model's scores into deciles and bands, and stamps scored_at, so adding a model
(customer lifetime value, say) is one more frame in the list.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pandas as pd

REQUIRED_COLUMNS = ("customer_id", "model_name", "model_version", "score")
COLUMNS = (
    "customer_id", "model_name", "model_version", "score", "score_decile", "score_band", "features_as_of",
    "scored_at",
)


def score_deciles(scores: pd.Series) -> pd.Series:
    """1-10 by rank within the model (10 = highest scores); ties share a decile."""
    pct = scores.astype("float64").rank(method="average", pct=True)
    return np.ceil(pct * 10).clip(1, 10).astype("int64")


def score_band(deciles: pd.Series) -> pd.Series:
    """high (deciles 9-10), medium (4-8), low (1-3): the same cut for every model."""
    return pd.Series(np.select([deciles >= 9, deciles >= 4], ["high", "medium"], default="low"),
                     index=deciles.index)


def assemble_customer_scores(frames: Sequence[pd.DataFrame], scored_at: datetime) -> pd.DataFrame:
    """Stack per-model score frames into customer_scores (one row per customer and model).

    frames: each with customer_id, model_name, model_version, score and optionally
    features_as_of (the moment its inputs describe); an empty frame adds nothing (a model
    that could not be trained). scored_at: the moment the scores describe (the reference
    moment, not the clock, so rebuilds agree).
    """
    parts = []
    for frame in frames:
        missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
        if missing:
            raise ValueError(f"customer_scores: a score frame lacks column(s) {missing}; got {list(frame.columns)}")
        if frame.empty:
            continue
        part = frame.copy()
        if "features_as_of" not in part.columns:
            part["features_as_of"] = pd.NaT
        parts.append(part)
    if not parts:
        return pd.DataFrame({
            "customer_id": pd.Series(dtype="object"), "model_name": pd.Series(dtype="object"),
            "model_version": pd.Series(dtype="object"), "score": pd.Series(dtype="float64"),
            "score_decile": pd.Series(dtype="int64"), "score_band": pd.Series(dtype="object"),
            "features_as_of": pd.Series(dtype="datetime64[us]"), "scored_at": pd.Series(dtype="datetime64[us]"),
        })
    _check_one_score_per_customer_and_model(parts)
    scores = pd.concat(parts, ignore_index=True)
    scores["customer_id"] = scores["customer_id"].astype(str)
    scores["model_version"] = scores["model_version"].astype(str)
    scores["score"] = scores["score"].astype("float64")
    scores["score_decile"] = scores.groupby("model_name")["score"].transform(score_deciles).astype("int64")
    scores["score_band"] = score_band(scores["score_decile"])
    scores["features_as_of"] = pd.to_datetime(scores["features_as_of"])
    scores["scored_at"] = pd.Timestamp(scored_at)
    # a table's rows have no order: sorting millions of text keys here would only cost time
    return scores[list(COLUMNS)]


def _check_one_score_per_customer_and_model(parts: Sequence[pd.DataFrame]) -> None:
    """ValueError naming a customer with two scores of one model (within a frame or across
    frames). Checked on each model's customer ids alone: much cheaper than duplicated pairs of
    columns over millions of rows."""
    ids_by_model: dict[str, list[pd.Series]] = {}
    for part in parts:
        for name, ids in part.groupby(part["model_name"].astype(str), sort=False)["customer_id"]:
            ids_by_model.setdefault(str(name), []).append(ids.astype(str))
    for name, pieces in ids_by_model.items():
        ids = pd.concat(pieces, ignore_index=True) if len(pieces) > 1 else pieces[0]
        duplicated = ids.duplicated()
        if duplicated.any():
            raise ValueError(f"customer_scores: customer {ids[duplicated].iloc[0]} has two {name} scores")
