"""Ad platform reports: clicks (from ad-landing sessions), conversions (from orders), daily spend."""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cdp.generate.arrowkit import (
    at_rows,
    join,
    money,
    null_where,
    nulls,
    pick,
    replace_rows,
    take,
    timestamps,
)
from cdp.generate.behaviour import Lifecycle
from cdp.generate.commerce import ShopPlan
from cdp.generate.config import WorldConfig
from cdp.generate.keys import IdSpace, Stream, chunk_rng, seq_ids
from cdp.generate.people import DESKTOP_WEB, People
from cdp.generate.sessions import SIGNUP, Sessions
from cdp.generate.timefmt import US_PER_DAY, US_PER_H, US_PER_S
from cdp.generate.vocab import Vocabulary

PLATFORMS = pa.array(["google_ads", "meta_ads"])


def sha256_hex(values: list[str]) -> list[str]:
    """SHA-256 hex digests; only for the few hundred thousand enhanced-conversion emails."""
    return [hashlib.sha256(v.encode()).hexdigest() for v in values]


def build_ads(
    config: WorldConfig,
    people: People,
    life: Lifecycle,
    sessions: Sessions,
    plan: ShopPlan,
    orders: pa.Table,
    vocab: Vocabulary,
) -> dict[str, pa.Table]:
    rng = chunk_rng(config.seed, people.chunk.index, Stream.ADS)
    clicked = np.flatnonzero(sessions.platform >= 0)
    n = len(clicked)
    click_t = sessions.start_us[clicked] - (rng.uniform(1, 8, n) * US_PER_S).astype(np.int64)
    device = np.where(sessions.dev_type[clicked] == DESKTOP_WEB, 0, 1)
    device = np.where((device == 1) & (rng.random(n) < 0.08), 2, device)
    ci = pa.array(clicked)
    clicks = pa.table(
        {
            "click_id": pc.take(sessions.click_id, ci),
            "platform": pick(PLATFORMS, sessions.platform[clicked]),
            "campaign_id": take(vocab.ad_campaign_ids, sessions.campaign[clicked]),
            "ad_group_id": take(vocab.ad_group_ids, sessions.ad_group[clicked]),
            "clicked_at": timestamps(click_t),
            "landing_page_url": pc.take(sessions.landing_url, ci),
            "device_type": pick(pa.array(["desktop", "mobile", "tablet"]), device),
            "_fivetran_synced": timestamps(click_t + (rng.uniform(1, 30, n) * US_PER_H).astype(np.int64)),
            "_person_id": pa.array(people.pid[sessions.person[clicked]]),
        }
    )

    # purchase conversions: orders whose session landed from a click, plus pixel conversions
    pur = life.purchases
    online = np.flatnonzero(pur.online)
    o_sess = plan.session[online]
    from_click = sessions.platform[o_sess] >= 0
    pixel = ~from_click & (rng.random(len(online)) < 0.05)
    conv_rows = np.flatnonzero(from_click | pixel)
    # sign-up conversions: sign-ups that started from an ad click
    signup_sess = np.flatnonzero((sessions.kind == SIGNUP) & (sessions.platform >= 0))
    n_p, n_s = len(conv_rows), len(signup_sess)
    sess = np.concatenate([o_sess[conv_rows], signup_sess])
    with_click = np.concatenate([from_click[conv_rows], np.ones(n_s, dtype=bool)])
    platform = np.where(with_click, sessions.platform[sess], (rng.random(n_p + n_s) < 0.5).astype(np.int64))
    campaign = np.where(with_click, sessions.campaign[sess], platform * 10 + rng.integers(0, 10, n_p + n_s))
    t = np.concatenate([pur.t_us[online[conv_rows]], people.acquired_us[sessions.person[signup_sess]]])
    value = np.concatenate([life.baskets.total_cents[online[conv_rows]], np.zeros(n_s, dtype=np.int64)])
    action = np.r_[np.zeros(n_p, dtype=np.int64), np.ones(n_s, dtype=np.int64)]
    action = np.where((action == 1) & (rng.random(n_p + n_s) < 0.3), 2, action)

    order_email = orders.column("email").combine_chunks()  # orders rows follow the online purchases
    email_src = pa.concat_arrays([at_rows(order_email, conv_rows), at_rows(people.email, sessions.person[signup_sess])])
    m = n_p + n_s
    normalised = pc.utf8_lower(pc.utf8_trim_whitespace(email_src))
    hashed_rows = np.flatnonzero(
        ((rng.random(m) < 0.5) | ~with_click) & pc.is_valid(normalised).to_numpy(zero_copy_only=False)
    )
    digests = pa.array(sha256_hex(normalised.take(pa.array(hashed_rows)).to_pylist()), pa.string())
    conv_num = seq_ids(config.seed, IdSpace.CONVERSION, people.chunk.index, np.arange(m), base=7 * 10**12)
    conversions = pa.table(
        {
            "conversion_id": join(
                pick(pa.array(["g-", "m-"]), platform).dictionary_decode(),
                pc.cast(pa.array(conv_num), pa.string()),
            ),
            "platform": pick(PLATFORMS, platform),
            "click_id": null_where(~with_click, at_rows(sessions.click_id, sess)),
            "campaign_id": take(vocab.ad_campaign_ids, campaign),
            "conversion_action": pick(pa.array(["purchase", "sign_up", "lead"]), action),
            "converted_at": timestamps(t),
            "conversion_value": money(value),
            "currency": pa.repeat("USD", m),
            "hashed_email": replace_rows(nulls(m), hashed_rows, digests),
            "_fivetran_synced": timestamps(t + (rng.uniform(2, 48, m) * US_PER_H).astype(np.int64)),
            "_person_id": pa.array(people.pid[sessions.person[sess]]),
        }
    )
    return {"ad_clicks": clicks, "ad_conversions": conversions}


def build_ad_spend(config: WorldConfig, vocab: Vocabulary) -> pa.Table:
    """One row per campaign per day over the whole period."""
    rng = np.random.default_rng([config.seed, 0, int(Stream.GLOBAL)])
    first_day = config.start_us // US_PER_DAY
    days = np.arange(first_day, config.end_us // US_PER_DAY)
    n_c = len(vocab.ad_campaign_platform)
    camp = np.tile(np.arange(n_c), len(days))
    day = np.repeat(days, n_c)
    n = len(camp)
    scale = max(config.customers / 1000.0, 1.0)
    base = rng.lognormal(np.log(800 * scale), 0.6, n_c)
    impressions = np.maximum(rng.poisson(base[camp] * rng.lognormal(0, 0.3, n)), 1)
    ctr = np.where(vocab.ad_campaign_platform[camp] == 0, 0.035, 0.012)
    clicks = rng.binomial(impressions, ctr)
    cpc = np.where(vocab.ad_campaign_platform[camp] == 0, 120, 80)
    spend = (clicks * cpc * rng.lognormal(0, 0.25, n)).astype(np.int64)
    day_us = day * US_PER_DAY
    return pa.table(
        {
            "date_day": pa.array(day.astype(np.int32), pa.int32()).view(pa.date32()),
            "platform": pick(PLATFORMS, vocab.ad_campaign_platform[camp]),
            "campaign_id": take(vocab.ad_campaign_ids, camp),
            "campaign_name": take(vocab.ad_campaign_names, camp),
            "impressions": pa.array(impressions.astype(np.int64)),
            "clicks": pa.array(clicks.astype(np.int64)),
            "spend": money(spend),
            "currency": pa.repeat("USD", n),
            "_fivetran_synced": timestamps(day_us + US_PER_DAY + (rng.uniform(1, 12, n) * US_PER_H).astype(np.int64)),
        }
    )
