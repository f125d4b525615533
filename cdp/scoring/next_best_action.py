"""Next best action per known customer, from the predictive scores, features and consent.

Rules, in priority order; the first rule whose condition holds AND that has a channel the
customer consented to wins. Each rule lists its channels in order of preference, each channel
needs its consent purpose granted (customer_consent: 'granted'; denied or unknown never
counts):

1. service_follow_up (reason bad_ticket_rating_recent): a ticket rated bad and the last
   ticket within `service_recent_days` (30) days. Channels: email, sms.
2. win_back (reason high_churn_risk_high_value): churn score >= `churn_threshold` (0.7) and
   monetary value at or above the `value_quantile` (median) of all buyers. Channels: email,
   sms, ads.
3. cross_sell (reason recent_buyer_favourite_category): ordered within `recent_order_days`
   (30) days and has a favourite category. Channels: email, ads.
4. nurture (reason engaged_non_buyer): never ordered, but had a session in the last 90 days
   or opened an email within `engaged_days` (90) days (the engaged_non_buyers audience).
   Channel: email.
5. none: reason no_consent_for_<action> when a rule's condition held but none of its
   channels had consent (consent_purpose then lists the purposes checked), else
   no_rule_matched.

A customer without a score for a model (no churn score for a non-buyer, or a model lacking
labels) simply does not meet the conditions that need it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from cdp.scoring.propensity import CHURN, PURCHASE_PROPENSITY, as_bool, feature_values

CHANNEL_PURPOSE = {"email": "email", "sms": "sms", "ads": "ads"}
COLUMNS = (
    "customer_id", "action", "reason_code", "channel", "consent_purpose", "churn_score",
    "purchase_propensity_score", "features_as_of", "scored_at",
)
REQUIRED_FEATURES = (
    "customer_id", "order_count", "monetary_value", "days_since_last_order", "favourite_category",
    "tickets_rated_bad", "days_since_last_ticket", "sessions_90d", "days_since_last_email_open", "is_known",
)
# The columns of int_scoring__features_current next_best_actions reads (is_known comes from
# customers): a reader fetches these only, not the whole wide table.
FEATURE_COLUMNS = (*[c for c in REQUIRED_FEATURES if c != "is_known"], "features_as_of")


@dataclass(frozen=True)
class NbaRules:
    churn_threshold: float = 0.7
    value_quantile: float = 0.5
    service_recent_days: int = 30
    recent_order_days: int = 30
    engaged_days: int = 90


@dataclass(frozen=True)
class Rule:
    action: str
    reason_code: str
    channels: tuple[str, ...]


RULES = (
    Rule("service_follow_up", "bad_ticket_rating_recent", ("email", "sms")),
    Rule("win_back", "high_churn_risk_high_value", ("email", "sms", "ads")),
    Rule("cross_sell", "recent_buyer_favourite_category", ("email", "ads")),
    Rule("nurture", "engaged_non_buyer", ("email",)),
)


def _number(frame: pd.DataFrame, column: str) -> pd.Series:
    return pd.Series(feature_values(frame[column]), index=frame.index)


def _conditions(customers: pd.DataFrame, rules: NbaRules) -> dict[str, np.ndarray]:
    orders = _number(customers, "order_count").fillna(0)
    monetary = _number(customers, "monetary_value")
    buyers_monetary = monetary[orders > 0]
    value_floor = buyers_monetary.quantile(rules.value_quantile) if len(buyers_monetary) else np.inf
    churn = customers["churn_score"].astype("float64")
    return {
        "service_follow_up": ((_number(customers, "tickets_rated_bad").fillna(0) > 0)
                              & (_number(customers, "days_since_last_ticket") <= rules.service_recent_days)).to_numpy(),
        "win_back": ((churn >= rules.churn_threshold) & (orders > 0) & (monetary >= value_floor)).to_numpy(),
        "cross_sell": ((_number(customers, "days_since_last_order") <= rules.recent_order_days)
                       & customers["favourite_category"].notna()).to_numpy(),
        "nurture": ((orders == 0) & ((_number(customers, "sessions_90d").fillna(0) > 0)
                                     | (_number(customers, "days_since_last_email_open") <= rules.engaged_days)))
        .to_numpy(),
    }


def granted_consent(consent: pd.DataFrame, customer_ids: pd.Series) -> dict[str, np.ndarray]:
    """customer_consent (customer_id, purpose, consent_status) -> per purpose a boolean per
    customer of `customer_ids`: True only when granted (denied, unknown or absent: False)."""
    granted = consent.loc[consent["consent_status"].astype(str).eq("granted"), ["customer_id", "purpose"]]
    purposes = granted["purpose"].astype(str)
    return {
        purpose: customer_ids.isin(granted.loc[purposes.eq(purpose), "customer_id"].astype(str)).to_numpy()
        for purpose in sorted(set(CHANNEL_PURPOSE.values()))
    }


def next_best_actions(
    features: pd.DataFrame, scores: pd.DataFrame, consent: pd.DataFrame, scored_at: datetime,
    rules: NbaRules = NbaRules(), rule_order: Sequence[Rule] = RULES,
) -> pd.DataFrame:
    """One action per known customer (see the module doc for the rules).

    features: int_scoring__features_current plus is_known; scores: customer_scores (long);
    consent: customer_consent (customer_id, purpose, consent_status).
    """
    missing = [c for c in REQUIRED_FEATURES if c not in features.columns]
    if missing:
        raise ValueError(f"next_best_actions: features lack column(s) {missing}")
    customers = features.loc[as_bool(features["is_known"])].copy()
    customers["customer_id"] = customers["customer_id"].astype(str)
    customers = customers.reset_index(drop=True)  # rows in the input's order: a table has none
    score_ids = scores["customer_id"].astype(str)
    for model in (CHURN, PURCHASE_PROPENSITY):
        chosen = scores["model_name"].eq(model).to_numpy()
        by_customer = pd.Series(scores.loc[chosen, "score"].astype("float64").to_numpy(), index=score_ids[chosen])
        by_customer = by_customer[~by_customer.index.duplicated()]
        customers[f"{model}_score"] = customers["customer_id"].map(by_customer).astype("float64")
    granted = granted_consent(consent, customers["customer_id"])
    conditions = _conditions(customers, rules)

    n = len(customers)
    action = np.full(n, None, dtype=object)
    reason = np.full(n, None, dtype=object)
    channel = np.full(n, None, dtype=object)
    purpose = np.full(n, None, dtype=object)
    blocked = np.full(n, None, dtype=object)
    blocked_purposes = np.full(n, None, dtype=object)
    for rule in rule_order:
        holds = conditions[rule.action] & (action == None)  # noqa: E711 - elementwise on an object array
        for name in rule.channels:
            allowed = holds & (action == None) & granted[CHANNEL_PURPOSE[name]]  # noqa: E711
            action[allowed], reason[allowed] = rule.action, rule.reason_code
            channel[allowed], purpose[allowed] = name, CHANNEL_PURPOSE[name]
        first_block = holds & (action == None) & (blocked == None)  # noqa: E711
        blocked[first_block] = rule.action
        blocked_purposes[first_block] = ",".join(CHANNEL_PURPOSE[name] for name in rule.channels)
    nothing = action == None  # noqa: E711
    was_blocked = nothing & (blocked != None)  # noqa: E711
    reason[was_blocked] = np.array([f"no_consent_for_{a}" for a in blocked[was_blocked]], dtype=object)
    purpose[was_blocked] = blocked_purposes[was_blocked]
    reason[nothing & ~was_blocked] = "no_rule_matched"
    action[nothing] = "none"
    return pd.DataFrame({
        "customer_id": customers["customer_id"],
        "action": action,
        "reason_code": reason,
        "channel": channel,
        "consent_purpose": purpose,
        "churn_score": customers[f"{CHURN}_score"],
        "purchase_propensity_score": customers[f"{PURCHASE_PROPENSITY}_score"],
        "features_as_of": pd.to_datetime(customers["features_as_of"]),
        "scored_at": pd.Timestamp(scored_at),
    })[list(COLUMNS)]
