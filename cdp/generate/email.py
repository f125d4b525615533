"""Email service provider webhooks: marketing campaigns to subscribers and order confirmations."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cdp.generate.arrowkit import (
    at_rows,
    b64_matrix,
    join,
    null_where,
    pick,
    strings_from_matrix,
    take,
    timestamps,
    where,
)
from cdp.generate.behaviour import Lifecycle
from cdp.generate.commerce import TEST_EMAIL
from cdp.generate.config import WorldConfig
from cdp.generate.identities import address_as_typed
from cdp.generate.keys import Stream, chunk_rng
from cdp.generate.people import People
from cdp.generate.timefmt import (
    US_PER_DAY,
    US_PER_H,
    US_PER_MIN,
    US_PER_S,
    new_york_offset_minutes,
    text_iso_offset,
)
from cdp.generate.vocab import SITE, Vocabulary

EVENT_TYPES = ["send", "delivered", "open", "click", "bounce", "unsubscribe", "spamreport"]
SEND, DELIVERED, OPEN, CLICK, BOUNCE, UNSUB, SPAM = range(7)
CAMPAIGN_SHARE = 0.03  # share of campaigns a subscriber is sent
_BOUNCE_REASONS = pa.array(
    [
        "550 5.1.1 The email account that you tried to reach does not exist",
        "550 5.1.1 Recipient address rejected: User unknown in virtual mailbox table",
        "452 4.2.2 The email account that you tried to reach is over quota",
        "554 5.7.1 Message rejected as spam",
    ]
)


@dataclass(frozen=True)
class EmailOutcome:
    table: pa.Table
    sub_person: np.ndarray  # subscribers (row in People)
    sub_t: np.ndarray
    sub_address: pa.Array
    unsub_person: np.ndarray
    unsub_t: np.ndarray
    unsub_address: pa.Array


def _subscriptions(
    rng: np.random.Generator, config: WorldConfig, people: People
) -> tuple[np.ndarray, np.ndarray, pa.Array, np.ndarray]:
    subs = np.flatnonzero(people.subscribed)
    m = len(subs)
    t = np.maximum(people.acquired_us[subs], config.start_us) + (rng.random(m) * 30 * US_PER_DAY).astype(np.int64)
    u = rng.random(m)
    canonical = at_rows(people.email, subs)
    work = at_rows(people.work_email, subs)
    old = at_rows(people.old_email, subs)
    canonical = where(pc.is_valid(work).to_numpy(zero_copy_only=False) & (u < 0.1), work, canonical)
    canonical = where(pc.is_valid(old).to_numpy(zero_copy_only=False) & (u > 0.95), old, canonical)
    typo = (u > 0.4) & (u < 0.43)
    canonical = where(typo, at_rows(people.typo_email, subs), canonical)
    held = address_as_typed(rng, canonical, upper=0.02, mixed=0.03, spaces=0.0, gmail_dots=0.1, plus_tag=0.08)
    return subs, t, held, typo


def build_email(
    config: WorldConfig, people: People, life: Lifecycle, orders: pa.Table, vocab: Vocabulary
) -> EmailOutcome:
    rng = chunk_rng(config.seed, people.chunk.index, Stream.EMAIL)
    subs, sub_t, held, typo = _subscriptions(rng, config, people)
    camp_t = vocab.email_campaign_us
    lo = np.searchsorted(camp_t, sub_t)
    eligible = np.maximum(len(camp_t) - lo, 0)
    count = rng.binomial(eligible, CAMPAIGN_SHARE)
    s_sub = np.repeat(np.arange(len(subs)), count)
    camp = lo[s_sub] + (rng.random(len(s_sub)) * eligible[s_sub]).astype(np.int64)
    order = np.lexsort((camp, s_sub))
    s_sub, camp = s_sub[order], camp[order]
    starts = np.cumsum(count) - count
    rank = np.arange(len(s_sub)) - starts[s_sub]
    # a typo'd address bounces on the first send and is suppressed; some people unsubscribe
    unsub = rng.random(len(subs)) < 0.08
    unsub_rank = np.where(
        unsub, (rng.random(len(subs)) * np.maximum(count, 1)).astype(np.int64), np.iinfo(np.int64).max
    )
    last_rank = np.where(typo[s_sub], 0, unsub_rank[s_sub])
    keep = rank <= last_rank
    s_sub, camp, rank = s_sub[keep], camp[keep], rank[keep]
    send_t = camp_t[camp] + (rng.random(len(s_sub)) * 90 * US_PER_MIN).astype(np.int64)
    in_window = (send_t >= config.start_us) & (send_t < config.end_us)
    s_sub, camp, rank, send_t = s_sub[in_window], camp[in_window], rank[in_window], send_t[in_window]
    person = subs[s_sub]
    bounced = typo[s_sub] | (rng.random(len(s_sub)) < 0.003)
    is_unsub = unsub[s_sub] & (rank == unsub_rank[s_sub]) & ~bounced

    # order confirmations to the address typed at checkout
    o_email = pc.utf8_trim_whitespace(orders.column("email").combine_chunks())
    o_person = np.searchsorted(people.pid, orders.column("_person_id").to_numpy())
    o_t = orders.column("created_at").combine_chunks().cast(pa.int64()).to_numpy() + 30 * US_PER_S
    junk = pc.invert(pc.match_substring(o_email, "@")).to_numpy(zero_copy_only=False)
    o_bounce = pc.match_substring_regex(
        o_email, r"(?i)@(gmial|yaho|hotmial|outlok|iclod|aol\.co$|comcast\.nte|att\.nte|protonmial|me\.cm)"
    )
    o_bounce = o_bounce.to_numpy(zero_copy_only=False) | pc.equal(o_email, TEST_EMAIL).to_numpy(zero_copy_only=False)
    o_keep = ~junk & (o_t < config.end_us)

    # one "message" per marketing send and per confirmation, then its events
    msg_person = np.concatenate([person, o_person[o_keep]])
    msg_t = np.concatenate([send_t, o_t[o_keep]])
    msg_addr = pa.concat_arrays([at_rows(held, s_sub), o_email.filter(pa.array(o_keep))])
    msg_camp = np.concatenate([camp, np.full(int(o_keep.sum()), -1)])
    msg_bounce = np.concatenate([bounced, o_bounce[o_keep]])
    msg_unsub = np.concatenate([is_unsub, np.zeros(int(o_keep.sum()), dtype=bool)])
    marketing = msg_camp >= 0
    n_msg = len(msg_person)

    after_churn = msg_t >= life.churned_us[msg_person]
    open_p = people.open_prop[msg_person] * np.where(after_churn, 0.2, 1.0) * np.where(marketing, 1.0, 1.6)
    opened = ~msg_bounce & (rng.random(n_msg) < np.minimum(open_p, 0.95))
    opened |= msg_unsub
    clicked = opened & (rng.random(n_msg) < people.click_prop[msg_person])
    spam = marketing & ~msg_bounce & ~opened & (rng.random(n_msg) < 0.0008)
    open_t = msg_t + (rng.exponential(8, n_msg) * US_PER_H).astype(np.int64) + US_PER_MIN
    click_t = open_t + (rng.uniform(3, 300, n_msg) * US_PER_S).astype(np.int64)

    parts = [
        (marketing, SEND, msg_t),
        (~msg_bounce, DELIVERED, msg_t + (rng.uniform(1, 20, n_msg) * US_PER_S).astype(np.int64)),
        (msg_bounce, BOUNCE, msg_t + (rng.uniform(1, 60, n_msg) * US_PER_S).astype(np.int64)),
        (opened, OPEN, open_t),
        (clicked, CLICK, click_t),
        (msg_unsub, UNSUB, click_t + 30 * US_PER_S),
        (spam, SPAM, open_t),
    ]
    ev_msg = np.concatenate([np.flatnonzero(mask) for mask, _, _ in parts])
    ev_type = np.concatenate([np.full(int(mask.sum()), code) for mask, code, _ in parts])
    ev_t = np.concatenate([t[mask] for mask, _, t in parts])
    keep = ev_t < config.end_us
    ev_msg, ev_type, ev_t = ev_msg[keep], ev_type[keep], ev_t[keep]
    m = len(ev_msg)

    words = [rng.integers(0, 2**63, m).astype(np.uint64) for _ in range(3)]
    event_id = strings_from_matrix(b64_matrix(words, 22))
    style = rng.choice(3, m, p=[0.5, 0.3, 0.2])  # Z, +00:00, New York offset
    offset = np.where(style == 2, new_york_offset_minutes(ev_t), 0)
    occurred = text_iso_offset(ev_t, offset, style == 0)
    camp_idx = np.maximum(msg_camp[ev_msg], 0)
    is_marketing = msg_camp[ev_msg] >= 0
    campaign_id = null_where(~is_marketing, take(vocab.email_campaign_ids, camp_idx))
    campaign_name = where(is_marketing, take(vocab.email_campaign_names, camp_idx), "Order Confirmation")
    slug = pc.utf8_lower(pc.replace_substring(campaign_name, " ", "_"))
    url = join(
        SITE,
        take(pa.array(["/", "/collections/new", "/products/p10042", "/pages/sale"]), rng.integers(0, 4, m)),
        "?utm_source=newsletter&utm_medium=email&utm_campaign=",
        slug,
    )
    addr = at_rows(msg_addr, ev_msg)
    reason = take(_BOUNCE_REASONS, rng.choice(4, m, p=[0.6, 0.25, 0.1, 0.05]))
    agent = take(vocab.mail_agents, rng.integers(0, len(vocab.mail_agents), m))
    with_agent = np.isin(ev_type, (OPEN, CLICK))
    table = pa.table(
        {
            "event_id": event_id,
            "event_type": pick(pa.array(EVENT_TYPES), ev_type),
            "email": addr,
            "campaign_id": campaign_id,
            "campaign_name": campaign_name,
            "occurred_at": occurred,
            "url": null_where(ev_type != CLICK, url),
            "bounce_reason": null_where(ev_type != BOUNCE, reason),
            "user_agent": null_where(~with_agent, agent),
            "_loaded_at": timestamps(ev_t + (rng.uniform(1, 180, m) * US_PER_MIN).astype(np.int64)),
            "_person_id": pa.array(people.pid[msg_person[ev_msg]]),
        }
    )
    u_rows = np.flatnonzero(msg_unsub & (click_t < config.end_us))
    return EmailOutcome(
        table=table,
        sub_person=subs,
        sub_t=sub_t,
        sub_address=held,
        unsub_person=msg_person[u_rows],
        unsub_t=click_t[u_rows] + 30 * US_PER_S,
        unsub_address=at_rows(msg_addr, u_rows),
    )
