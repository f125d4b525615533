"""Recency-frequency-monetary scores per customer.

Each buyer gets a 1-5 quintile score for recency (more recent is higher), frequency and
monetary value, ranked against all buyers as of a reference time, and a combined score in
[0, 1]. Customers who never bought get no row: an RFM score says nothing about them.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

RFM_MODEL_NAME = "rfm"
RFM_MODEL_VERSION = "1"

REQUIRED_COLUMNS = ("customer_id", "order_count", "total_revenue", "last_order_at")

# Segments, first match wins: (name, recency score range, frequency score range).
SEGMENTS = (
    ("champion", (4, 5), (4, 5)),
    ("loyal", (3, 5), (4, 5)),
    ("recent", (4, 5), (1, 5)),
    ("at_risk", (1, 2), (3, 5)),
    ("lapsed", (1, 1), (1, 2)),
)


def _quintile(values: pd.Series, ascending: bool = True) -> pd.Series:
    """1-5 by percentile rank; ties share the average rank so equal values score alike."""
    pct = values.rank(method="average", pct=True, ascending=ascending)
    return np.ceil(pct * 5).clip(1, 5).astype("int64")


def rfm_scores(
    customers: pd.DataFrame, as_of: datetime | None = None, scored_at: datetime | None = None
) -> pd.DataFrame:
    """Score every customer with at least one order.

    customers: one row per customer with customer_id, order_count, total_revenue and
    last_order_at. as_of: the reference time for recency (default: the latest order time,
    so the same data always gives the same scores).
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in customers.columns]
    if missing:
        raise ValueError(f"rfm_scores: input lacks column(s) {missing}; got {list(customers.columns)}")
    buyers = customers.loc[customers["order_count"].fillna(0) > 0, list(REQUIRED_COLUMNS)].copy()
    columns = [
        "customer_id", "model_name", "model_version", "score", "recency_score", "frequency_score",
        "monetary_score", "rfm_segment", "recency_days", "as_of", "scored_at",
    ]
    if buyers.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    last_order = pd.to_datetime(buyers["last_order_at"])
    reference = pd.Timestamp(as_of) if as_of is not None else last_order.max()
    recency_days = (reference - last_order).dt.total_seconds() / 86400.0
    buyers["recency_days"] = recency_days.round(3)
    buyers["recency_score"] = _quintile(recency_days, ascending=False)
    buyers["frequency_score"] = _quintile(buyers["order_count"].astype("float64"))
    buyers["monetary_score"] = _quintile(buyers["total_revenue"].astype("float64"))
    buyers["score"] = (
        (buyers["recency_score"] + buyers["frequency_score"] + buyers["monetary_score"] - 3) / 12.0
    ).round(4)
    conditions = [
        buyers["recency_score"].between(*recency) & buyers["frequency_score"].between(*frequency)
        for _, recency, frequency in SEGMENTS
    ]
    buyers["rfm_segment"] = np.select(conditions, [name for name, _, _ in SEGMENTS], default="other")
    buyers["model_name"] = RFM_MODEL_NAME
    buyers["model_version"] = RFM_MODEL_VERSION
    buyers["as_of"] = reference
    buyers["scored_at"] = pd.Timestamp(scored_at) if scored_at is not None else reference
    return buyers[columns].reset_index(drop=True)
