"""Help-desk tickets from buyers, with a requester id per address or phone the help desk has seen."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cdp.generate.arrowkit import at_rows, join, null_where, pick, take, timestamps, where
from cdp.generate.behaviour import Lifecycle
from cdp.generate.config import WorldConfig, at_least
from cdp.generate.identities import address_as_typed, phone_text, random_phone_formats
from cdp.generate.keys import IdSpace, Stream, chunk_rng, seq_ids, unique_permutation
from cdp.generate.names import first_name_entries, last_name_entries
from cdp.generate.people import People
from cdp.generate.timefmt import US_PER_DAY, US_PER_H, US_PER_MIN
from cdp.generate.vocab import Vocabulary

SUBJECTS = [
    "Where is my order?",
    "Return request",
    "Item arrived damaged",
    "Wrong size received",
    "Refund status",
    "Cannot log in to my account",
    "Loyalty points missing",
    "Question about a product",
    "Change delivery address",
    "Promo code not working",
]
# identifier slots for requester ids: one help-desk user per address or phone
SLOT_EMAIL, SLOT_WORK, SLOT_MOBILE, SLOT_LANDLINE, SLOT_SHARED = 0, 1, 4, 5, 7


def requester_ids(seed: int, owner: np.ndarray, slot: np.ndarray) -> np.ndarray:
    """Stable help-desk user id of identifier `slot` of `owner` (person id, or household id if shared)."""
    return unique_permutation(np.asarray(owner) * 8 + slot, 2**40, seed, 11) + 10**12


def build_tickets(config: WorldConfig, people: People, life: Lifecycle, vocab: Vocabulary) -> pa.Table:
    rng = chunk_rng(config.seed, people.chunk.index, Stream.SUPPORT)
    pur = life.purchases
    src = np.flatnonzero(pur.ticket & (pur.ticket_us < config.end_us))
    n = len(src)
    person = pur.person[src]
    created = pur.ticket_us[src]
    voice = rng.random(n) < 0.22
    channel = np.where(voice, 3, rng.choice(3, n, p=[0.5, 0.3, 0.2]))

    shared = at_rows(people.shared_email, person)
    has_shared = pc.is_valid(shared).to_numpy(zero_copy_only=False)
    work = at_rows(people.work_email, person)
    has_work = pc.is_valid(work).to_numpy(zero_copy_only=False)
    u = rng.random(n)
    use_shared = has_shared & (u < 0.3)
    use_work = has_work & ~use_shared & (u > 0.85)
    canonical = where(use_shared, shared, where(use_work, work, at_rows(people.email, person)))
    email_slot = np.where(use_shared, SLOT_SHARED, np.where(use_work, SLOT_WORK, SLOT_EMAIL))
    email = address_as_typed(rng, canonical, upper=0.03, mixed=0.03, spaces=0.01)

    use_landline = (people.landline[person] > 0) & ((people.mobile[person] == 0) | (rng.random(n) < 0.3))
    number = np.where(use_landline, people.landline[person], people.mobile[person])
    voice &= number > 0
    phone_slot = np.where(use_landline, SLOT_LANDLINE, SLOT_MOBILE)
    phone = null_where(~voice, phone_text(np.maximum(number, 2_000_000_000), random_phone_formats(rng, n)))
    email = null_where(voice, email)
    owner = np.where(
        voice,
        np.where(use_landline, people.household[person], people.pid[person]),
        np.where(use_shared, people.household[person], people.pid[person]),
    )
    requester = requester_ids(config.seed, owner, np.where(voice, phone_slot, email_slot))

    first = first_name_entries(rng, vocab, people.first[person], nickname_rate=0.15)
    last = last_name_entries(rng, vocab, people.last[person])
    name = where(rng.random(n) < 0.15, first, join(first, " ", last))

    recent = created > config.end_us - 10 * US_PER_DAY
    status = np.where(recent, rng.choice(6, n, p=[0.2, 0.3, 0.2, 0.05, 0.15, 0.1]), rng.choice([4, 5], n, p=[0.3, 0.7]))
    solved = status >= 4
    bad = pur.ticket_bad[src]
    rating = np.where(bad, 1, rng.choice([0, 2, 3], n, p=[0.4, 0.3, 0.3]))
    rating = np.where(solved, rating, 3)
    resolve = created + (rng.exponential(30, n) * US_PER_H).astype(np.int64) + 10 * US_PER_MIN
    updated = np.where(solved, resolve + (rng.exponential(48, n) * US_PER_H).astype(np.int64), created + US_PER_H)
    updated = np.minimum(updated, config.end_us - US_PER_MIN)
    solved_at = np.minimum(resolve, updated)
    ids = seq_ids(config.seed, IdSpace.TICKET, people.chunk.index, np.arange(n), base=10**6)
    table = pa.table(
        {
            "id": pa.array(ids),
            "requester_id": pa.array(requester),
            "requester_email": email,
            "requester_phone": phone,
            "requester_name": name,
            "subject": take(pa.array(SUBJECTS), rng.integers(0, len(SUBJECTS), n)),
            "channel": pick(pa.array(["email", "web", "chat", "voice"]), channel),
            "status": take(pa.array(["new", "open", "pending", "hold", "solved", "closed"]), status),
            "priority": pick(pa.array(["low", "normal", "high", "urgent"]), rng.choice(4, n, p=[0.2, 0.6, 0.15, 0.05])),
            "satisfaction_rating": take(pa.array(["good", "bad", "offered", "unoffered"]), rating),
            "created_at": timestamps(created),
            "updated_at": timestamps(updated),
            "solved_at": timestamps(solved_at, null_mask=~solved),
            "_fivetran_synced": timestamps(updated + (rng.uniform(5, 120, n) * US_PER_MIN).astype(np.int64)),
            "_person_id": pa.array(people.pid[person]),
        }
    )
    # superseded versions: an earlier sync of a solved ticket, still open
    n_old = at_least(int(rng.binomial(n, 0.03)), people.chunk, 3)
    older = rng.choice(np.flatnonzero(solved), min(n_old, int(solved.sum())), replace=False)
    if len(older):
        prev = table.take(pa.array(older))
        mid = created[older] + (solved_at[older] - created[older]) // 2
        prev = prev.set_column(prev.schema.get_field_index("status"), "status", pa.repeat("open", len(older)))
        prev = prev.set_column(
            prev.schema.get_field_index("satisfaction_rating"),
            "satisfaction_rating",
            pa.repeat("unoffered", len(older)),
        )
        prev = prev.set_column(prev.schema.get_field_index("updated_at"), "updated_at", timestamps(mid))
        prev = prev.set_column(
            prev.schema.get_field_index("solved_at"), "solved_at", timestamps(mid, np.ones(len(older), bool))
        )
        prev = prev.set_column(
            prev.schema.get_field_index("_fivetran_synced"), "_fivetran_synced", timestamps(mid + US_PER_H)
        )
        table = pa.concat_tables([table, prev])
    return table
