"""customer_features against an independent computation in pandas, on both warehouses, today
and as of a past cutoff (nothing after the cutoff may leak in)."""

from __future__ import annotations

import pandas as pd
import pytest

from cdp.features import features_as_of, features_as_of_sql
from cdp.warehouse import ConfigError, Target, connect, relation_schema

CUTOFF = "2026-03-01"
PURCHASES = ("order_placed", "store_purchase")
VISITS = ("page_view", "screen_view", "track", "identify")


def frame(target: Target, sql: str) -> pd.DataFrame:
    warehouse = connect(target, read_only=target.type == "duckdb")
    try:
        return warehouse.query_arrow(sql).to_pandas()
    finally:
        warehouse.close()


def expected_features(events: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """The features the macro must give, computed row by row in pandas."""
    events = events[events["customer_id"].notna() & (events["occurred_at"] < as_of)].copy()
    events["revenue"] = events["revenue"].astype(float).fillna(0.0)
    purchases = events[events["event_type"].isin(PURCHASES)]
    out = pd.DataFrame(index=pd.Index(sorted(events["customer_id"].unique()), name="customer_id"))
    out["order_count"] = purchases.groupby("customer_id").size()
    out["orders_365d"] = purchases[purchases["occurred_at"] >= as_of - pd.Timedelta(days=365)].groupby(
        "customer_id").size()
    money = events[events["event_type"].isin((*PURCHASES, "store_return"))]
    out["monetary_value"] = money.groupby("customer_id")["revenue"].sum()
    visits = events[events["event_type"].isin(VISITS)].sort_values(["customer_id", "occurred_at"])
    gap = visits.groupby("customer_id")["occurred_at"].diff()
    starts = visits[gap.isna() | (gap > pd.Timedelta(minutes=30))]
    out["sessions"] = starts.groupby("customer_id").size()
    out["sessions_90d"] = starts[starts["occurred_at"] >= as_of - pd.Timedelta(days=90)].groupby(
        "customer_id").size()
    return out.fillna(0)


def events_of(target: Target) -> pd.DataFrame:
    marts = relation_schema(target, "marts")
    events = frame(target, f"select customer_id, occurred_at, event_type, revenue from {marts}.customer_events")
    events["occurred_at"] = pd.to_datetime(events["occurred_at"])
    return events


def compare(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    actual = actual.set_index("customer_id")
    assert set(actual.index) <= set(expected.index)
    assert len(actual) > 0.9 * len(expected)  # customers who asked to be deleted are the difference
    expected = expected.loc[actual.index]
    for column in expected.columns:
        got = actual[column].astype(float)
        want = expected[column].astype(float)
        bad = (got - want).abs() > 0.005
        assert not bad.any(), f"{column}: {actual.loc[bad].index[:5].tolist()} got {got[bad].head().tolist()} " \
                              f"want {want[bad].head().tolist()}"


def test_features_today_match_an_independent_computation(built: Target):
    marts = relation_schema(built, "marts")
    actual = frame(built, f"select * from {marts}.customer_features")
    as_of = pd.Timestamp(actual["features_as_of"].iloc[0])
    assert actual["features_as_of"].nunique() == 1
    compare(actual, expected_features(events_of(built), as_of))
    assert actual["customer_id"].is_unique
    assert (actual["order_count"] > 0).sum() > 0.3 * len(actual)
    assert actual["email_open_rate"].dropna().between(0, 1).all()
    buyers = actual[actual["order_count"] > 0]
    assert buyers["favourite_category"].notna().mean() > 0.9 and buyers["favourite_channel"].notna().all()
    assert actual.loc[actual["order_count"] == 0, "favourite_category"].isna().all()


def test_features_as_of_a_past_cutoff_see_nothing_after_it(built: Target):
    past = features_as_of(built, CUTOFF).to_pandas()
    cutoff = pd.Timestamp(CUTOFF)
    assert (pd.to_datetime(past["features_as_of"]) == cutoff).all()
    for column in ("first_seen_at", "last_order_at", "last_visit_at"):
        assert (pd.to_datetime(past[column].dropna()) < cutoff).all(), column
    compare(past, expected_features(events_of(built), cutoff))


def test_a_ticket_solved_after_the_cutoff_was_open_at_the_cutoff(built: Target):
    marts = relation_schema(built, "marts")
    staging = relation_schema(built, "staging")
    tickets = frame(built, f"""
        select events.customer_id, tickets.created_at, tickets.solved_at
        from {marts}.customer_events as events
        inner join {staging}.stg_support__tickets as tickets
            on events.source_table = 'support.tickets' and events.record_id = cast(tickets.ticket_id as varchar)
        where events.customer_id is not null
    """)
    long_open = tickets[(tickets["solved_at"] - tickets["created_at"]) >= pd.Timedelta(hours=2)]
    assert len(long_open) > 0
    chosen = long_open.sort_values("created_at").iloc[len(long_open) // 2]
    cutoff = (chosen["created_at"] + (chosen["solved_at"] - chosen["created_at"]) / 2).floor("s")
    past = features_as_of(built, cutoff.strftime("%Y-%m-%d %H:%M:%S")).to_pandas().set_index("customer_id")
    assert past.loc[chosen["customer_id"], "tickets_open"] >= 1
    opened = tickets[tickets["created_at"] < cutoff]
    still_open = opened["solved_at"].isna() | (opened["solved_at"] >= cutoff)
    assert past["tickets_open"].sum() == still_open.sum()
    assert past["tickets_closed"].sum() == (~still_open).sum()


def test_features_as_of_rejects_a_malformed_moment(duckdb_built: Target):
    with pytest.raises(ConfigError, match="YYYY-MM-DD"):
        features_as_of_sql(duckdb_built, "last tuesday")


def test_audience_members_are_the_customers_meeting_the_condition_with_consent(built: Target):
    marts = relation_schema(built, "marts")
    members = frame(built, f"""
        select audience_name, count(*) as n from {marts}.audience_memberships
        where is_member group by audience_name
    """).set_index("audience_name")["n"]
    expected = frame(built, f"""
        select count(*) as n from {marts}.customer_features as f
        inner join {marts}.customer_consent as c
            on f.customer_id = c.customer_id and c.purpose = 'email' and c.consent_status = 'granted'
        where f.monetary_value >= 500 and f.days_since_last_order >= 180
    """)["n"].iloc[0]
    assert members.get("lapsed_high_value", 0) == expected > 0
    assert set(members.index) <= {"lapsed_high_value", "engaged_non_buyers", "recent_buyers"}
