"""Purchases with churn (a BG/NBD-like process), support-ticket triggers, and the baskets bought.

Each known person buys at a gamma-distributed rate; after every purchase they drop out with a
beta-distributed probability (raised sharply after a badly rated support ticket). The person's
churned_at is the moment they dropped out; nothing is bought after it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cdp.generate.config import WorldConfig
from cdp.generate.keys import Stream, chunk_rng
from cdp.generate.people import NEVER, People
from cdp.generate.timefmt import US_PER_DAY, US_PER_H, US_PER_YEAR, new_york_offset_minutes
from cdp.generate.vocab import Vocabulary

TICKET_RATE = 0.07  # support tickets per purchase
BAD_RATING = 0.12  # share of tickets rated bad


@dataclass(frozen=True)
class Purchases:
    person: np.ndarray  # row in People
    t_us: np.ndarray
    online: np.ndarray
    ticket: np.ndarray
    ticket_bad: np.ndarray
    ticket_us: np.ndarray

    @property
    def n(self) -> int:
        return len(self.person)


@dataclass(frozen=True)
class Baskets:
    """Lines of every purchase: purchase index, product, quantity, unit price (cents)."""

    purchase: np.ndarray
    line_no: np.ndarray
    product: np.ndarray
    quantity: np.ndarray
    unit_cents: np.ndarray
    subtotal_cents: np.ndarray  # per purchase
    tax_cents: np.ndarray  # per purchase
    total_cents: np.ndarray  # per purchase
    n_lines: np.ndarray  # per purchase
    line_start: np.ndarray  # per purchase: index of its first line


@dataclass(frozen=True)
class Lifecycle:
    churned_us: np.ndarray  # NEVER when still alive at the end of the period
    purchases: Purchases
    baskets: Baskets


def _store_hours(rng: np.random.Generator, t_us: np.ndarray, start_us: int, end_us: int) -> np.ndarray:
    """Move store purchases to 09:00-21:00 New York time on the same local day."""
    off = new_york_offset_minutes(t_us) * 60_000_000
    local_day = (t_us + off) // US_PER_DAY * US_PER_DAY
    local = local_day + 9 * US_PER_H + (rng.random(len(t_us)) * 12 * US_PER_H).astype(np.int64)
    return np.clip(local - off, start_us, end_us - 1)


def simulate_lifecycle(config: WorldConfig, people: People, vocab: Vocabulary) -> Lifecycle:
    rng = chunk_rng(config.seed, people.chunk.index, Stream.BEHAVIOUR)
    start, end = config.start_us, config.end_us
    n = people.n
    alive = people.purchase_rate > 0
    t = people.acquired_us.astype(np.int64).copy()
    churned = np.full(n, NEVER, dtype=np.int64)
    idx_parts, t_parts, ticket_parts, bad_parts, tt_parts = [], [], [], [], []
    active = np.flatnonzero(alive)
    while len(active):
        gap = np.minimum(rng.exponential(1.0 / people.purchase_rate[active]), 50.0) * US_PER_YEAR
        t[active] += gap.astype(np.int64)
        active = active[t[active] < end]
        if not len(active):
            break
        m = len(active)
        ticket = rng.random(m) < TICKET_RATE
        bad = ticket & (rng.random(m) < BAD_RATING)
        ticket_us = t[active] + (rng.exponential(2.5, m) * US_PER_DAY).astype(np.int64) + US_PER_H
        p_drop = np.where(bad, np.minimum(1.0, people.dropout[active] * 2.5 + 0.35), people.dropout[active])
        drop = rng.random(m) < p_drop
        in_window = t[active] >= start
        idx_parts.append(active[in_window])
        t_parts.append(t[active][in_window])
        ticket_parts.append(ticket[in_window])
        bad_parts.append(bad[in_window])
        tt_parts.append(np.minimum(ticket_us[in_window], end - 1))
        churned[active[drop]] = t[active[drop]]
        active = active[~drop]

    person = np.concatenate(idx_parts) if idx_parts else np.zeros(0, dtype=np.int64)
    t_us = np.concatenate(t_parts) if t_parts else np.zeros(0, dtype=np.int64)
    ticket = np.concatenate(ticket_parts) if ticket_parts else np.zeros(0, dtype=bool)
    bad = np.concatenate(bad_parts) if bad_parts else np.zeros(0, dtype=bool)
    ticket_us = np.concatenate(tt_parts) if tt_parts else np.zeros(0, dtype=np.int64)
    order = np.lexsort((t_us, person))
    person, t_us, ticket, bad, ticket_us = (
        person[order],
        t_us[order],
        ticket[order],
        bad[order],
        ticket_us[order],
    )

    online = rng.random(len(person)) < people.online_share[person]
    store = ~online
    t_us = t_us.copy()
    t_us[store] = _store_hours(rng, t_us[store], start, end)

    # the dropout moment is the last purchase (or the ticket that followed it)
    dropped = churned != NEVER
    last_t = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(last_t, person, np.maximum(t_us, np.where(ticket, ticket_us, 0)))
    churned = np.where(dropped, np.maximum(churned, last_t), NEVER)
    churned = np.where(dropped & (churned >= end), NEVER, churned)

    purchases = Purchases(person, t_us, online, ticket, bad, ticket_us)
    return Lifecycle(churned, purchases, build_baskets(rng, people, purchases, vocab))


def choose_products(rng: np.random.Generator, people: People, person: np.ndarray, vocab: Vocabulary) -> np.ndarray:
    """Products a person looks at or buys: mostly from their two preferred categories."""
    m = len(person)
    n_cat = len(vocab.categories)
    per_cat = len(vocab.product_category) // n_cat
    fav = people.fav_category[person, rng.integers(0, 2, m)]
    cat = np.where(rng.random(m) < 0.65, fav, rng.integers(0, n_cat, m))
    return rng.integers(0, per_cat, m) * n_cat + cat  # products are laid out category-major modulo n_cat


def build_baskets(rng: np.random.Generator, people: People, purchases: Purchases, vocab: Vocabulary) -> Baskets:
    n_p = purchases.n
    n_lines = np.minimum(1 + rng.poisson(1.0, n_p), 8)
    line_start = np.cumsum(n_lines) - n_lines
    purchase = np.repeat(np.arange(n_p), n_lines)
    line_no = np.arange(len(purchase)) - line_start[purchase] + 1
    product = choose_products(rng, people, purchases.person[purchase], vocab)
    quantity = rng.choice([1, 2, 3, 4], len(purchase), p=[0.84, 0.12, 0.03, 0.01])
    unit_cents = vocab.product_price_cents[product]
    subtotal = np.bincount(purchase, weights=quantity * unit_cents, minlength=n_p).astype(np.int64)
    tax = np.round(subtotal * 0.0725).astype(np.int64)
    return Baskets(purchase, line_no, product, quantity, unit_cents, subtotal, tax, subtotal + tax, n_lines, line_start)
