"""Consent statements (cookie banner, preference centre, checkout) and deletion requests."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from cdp.generate.arrowkit import (
    at_rows,
    dense,
    digit_string,
    join,
    null_where,
    pick,
    timestamps,
    uuid_string,
    where,
)
from cdp.generate.config import WorldConfig
from cdp.generate.email import EmailOutcome
from cdp.generate.identities import address_as_typed, e164, phone_text, random_phone_formats
from cdp.generate.keys import IdSpace, Stream, chunk_rng, seq_ids
from cdp.generate.people import People
from cdp.generate.sessions import Sessions
from cdp.generate.timefmt import US_PER_DAY, US_PER_MIN, US_PER_S, new_york_offset_minutes, text_iso_offset

SUBJECT_TYPES = ["email", "phone", "user_id", "anonymous_id"]
PURPOSES = ["email", "sms", "ads", "analytics"]
SOURCES = ["cookie_banner", "preference_center", "checkout", "crm", "support"]
S_EMAIL, S_PHONE, S_USER, S_ANON = range(4)
P_EMAIL, P_SMS, P_ADS, P_ANALYTICS = range(4)


@dataclass(frozen=True)
class Statements:
    """A batch of consent statements before they become rows."""

    person: np.ndarray
    t: np.ndarray
    stype: np.ndarray
    value: pa.Array
    purpose: np.ndarray
    granted: np.ndarray
    source: np.ndarray


def _iso(rng: np.random.Generator, t: np.ndarray) -> pa.Array:
    style = rng.choice(3, len(t), p=[0.6, 0.1, 0.3])
    return text_iso_offset(t, np.where(style == 2, new_york_offset_minutes(t), 0), style == 0)


def build_consent(config: WorldConfig, people: People, sessions: Sessions, mail: EmailOutcome) -> dict[str, pa.Table]:
    rng = chunk_rng(config.seed, people.chunk.index, Stream.CONSENT)
    parts: list[Statements] = []

    # cookie banner: some new browser cookies answer it (analytics and ads statements)
    banner = np.flatnonzero(sessions.is_web & sessions.new_cookie & (rng.random(sessions.n) < 0.035))
    choice = rng.choice(3, len(banner), p=[0.6, 0.25, 0.15])  # accept all, reject all, analytics only
    t_banner = sessions.start_us[banner] + (rng.uniform(2, 40, len(banner)) * US_PER_S).astype(np.int64)
    for purpose, granted in ((P_ANALYTICS, choice != 1), (P_ADS, choice == 0)):
        parts.append(
            Statements(
                person=sessions.person[banner],
                t=t_banner,
                stype=np.full(len(banner), S_ANON),
                value=at_rows(sessions.anon_id, banner),
                purpose=np.full(len(banner), purpose),
                granted=granted,
                source=np.zeros(len(banner), dtype=np.int64),
            )
        )

    # marketing email opt-in at checkout or in the preference centre (by email, or user_id when logged in)
    subs = mail.sub_person
    m = len(subs)
    by_user = people.has_account[subs] & (rng.random(m) < 0.3)
    value = where(by_user, at_rows(people.user_id, subs), mail.sub_address)
    parts.append(
        Statements(
            person=subs,
            t=mail.sub_t,
            stype=np.where(by_user, S_USER, S_EMAIL),
            value=value,
            purpose=np.full(m, P_EMAIL),
            granted=np.ones(m, dtype=bool),
            source=np.where(rng.random(m) < 0.5, 2, 1),
        )
    )
    # SMS opt-in for some subscribers with a mobile
    sms = subs[(people.mobile[subs] > 0) & (rng.random(m) < 0.12)]
    k = len(sms)
    t_sms = np.maximum(people.acquired_us[sms], config.start_us) + (rng.random(k) * 60 * US_PER_DAY).astype(np.int64)
    parts.append(
        Statements(
            person=sms,
            t=np.minimum(t_sms, config.end_us - US_PER_DAY),
            stype=np.full(k, S_PHONE),
            value=where(
                rng.random(k) < 0.5,
                e164(people.mobile[sms]),
                phone_text(people.mobile[sms], random_phone_formats(rng, k)),
            ),
            purpose=np.full(k, P_SMS),
            granted=np.ones(k, dtype=bool),
            source=np.full(k, 2),
        )
    )
    # opt-outs: unsubscribes from email; some later revoke ads consent in the preference centre
    u = len(mail.unsub_person)
    parts.append(
        Statements(
            person=mail.unsub_person,
            t=mail.unsub_t,
            stype=np.full(u, S_EMAIL),
            value=mail.unsub_address,
            purpose=np.full(u, P_EMAIL),
            granted=np.zeros(u, dtype=bool),
            source=np.full(u, 1),
        )
    )
    ads_out = np.flatnonzero(people.has_account & (rng.random(people.n) < 0.02))
    a = len(ads_out)
    t_ads = np.maximum(people.acquired_us[ads_out], config.start_us)
    t_ads = t_ads + (rng.random(a) * np.maximum(config.end_us - t_ads, US_PER_DAY)).astype(np.int64)
    parts.append(
        Statements(
            person=ads_out,
            t=np.minimum(t_ads, config.end_us - US_PER_MIN),
            stype=np.full(a, S_USER),
            value=at_rows(people.user_id, ads_out),
            purpose=np.full(a, P_ADS),
            granted=np.zeros(a, dtype=bool),
            source=np.where(rng.random(a) < 0.8, 1, 4),
        )
    )

    person = np.concatenate([p.person for p in parts])
    t = np.concatenate([p.t for p in parts])
    n = len(person)
    events = pa.table(
        {
            "event_id": uuid_string(
                rng.integers(0, 2**63, n).astype(np.uint64), rng.integers(0, 2**63, n).astype(np.uint64)
            ),
            "subject_type": pick(pa.array(SUBJECT_TYPES), np.concatenate([p.stype for p in parts])),
            "subject_value": pa.concat_arrays([dense(p.value) for p in parts]),
            "purpose": pick(pa.array(PURPOSES), np.concatenate([p.purpose for p in parts])),
            "status": pick(
                pa.array(["granted", "denied"]),
                (~np.concatenate([p.granted for p in parts])).astype(np.int64),
            ),
            "source": pick(pa.array(SOURCES), np.concatenate([p.source for p in parts])),
            "occurred_at": _iso(rng, t),
            "_loaded_at": timestamps(t + (rng.uniform(5, 240, n) * US_PER_MIN).astype(np.int64)),
            "_person_id": pa.array(people.pid[person]),
        }
    )
    return {"consent_events": events, "deletion_requests": _deletions(rng, config, people)}


def _deletions(rng: np.random.Generator, config: WorldConfig, people: People) -> pa.Table:
    rows = np.flatnonzero(people.deletion_requested)
    n = len(rows)
    how = rng.choice(3, n, p=[0.75, 0.15, 0.1])  # email, user_id, phone
    how = np.where((how == 1) & ~people.has_account[rows], 0, how)
    how = np.where((how == 2) & (people.mobile[rows] == 0), 0, how)
    period = config.end_us - config.start_us
    t = config.start_us + period // 5 + (rng.random(n) * (period * 4 // 5 - US_PER_DAY)).astype(np.int64)
    age_days = (config.end_us - t) / US_PER_DAY
    status = np.where(age_days > 30, 2, np.where(age_days > 7, rng.integers(1, 3, n), rng.integers(0, 2, n)))
    ids = seq_ids(config.seed, IdSpace.DELETION, people.chunk.index, np.arange(n), base=10**7)
    email = address_as_typed(rng, at_rows(people.email, rows), upper=0.05)
    return pa.table(
        {
            "request_id": join("DSR-", digit_string(ids % 10**10, 10)),
            "email": null_where(how != 0, email),
            "phone": null_where(
                how != 2,
                phone_text(np.maximum(people.mobile[rows], 2_000_000_000), random_phone_formats(rng, n)),
            ),
            "user_id": null_where(how != 1, at_rows(people.user_id, rows)),
            "requested_at": _iso(rng, t),
            "status": pick(pa.array(["received", "verified", "completed"]), status),
            "_loaded_at": timestamps(t + (rng.uniform(10, 600, n) * US_PER_MIN).astype(np.int64)),
            "_person_id": pa.array(people.pid[rows]),
        }
    )
