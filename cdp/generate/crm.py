"""HubSpot-shaped CRM objects: contacts (with duplicates and superseded versions), companies, deals."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cdp.generate.arrowkit import (
    amount_text,
    at_rows,
    int_text,
    join,
    null_where,
    pick,
    take,
    timestamps,
    where,
)
from cdp.generate.behaviour import Lifecycle
from cdp.generate.config import WorldConfig, at_least
from cdp.generate.identities import address_as_typed, phone_text, random_phone_formats
from cdp.generate.keys import IdSpace, Stream, chunk_rng, seq_ids
from cdp.generate.names import first_name_entries, last_name_entries
from cdp.generate.people import People
from cdp.generate.timefmt import US_PER_DAY, US_PER_H, US_PER_MIN, text_date, text_datetime
from cdp.generate.vocab import Vocabulary

STAGES = [
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
]
LEAD_STATUS = [
    "NEW",
    "OPEN",
    "IN_PROGRESS",
    "OPEN_DEAL",
    "UNQUALIFIED",
    "ATTEMPTED_TO_CONTACT",
    "CONNECTED",
    "BAD_TIMING",
]
DEAL_STAGES = [
    "appointmentscheduled",
    "qualifiedtobuy",
    "presentationscheduled",
    "decisionmakerboughtin",
    "contractsent",
    "closedwon",
    "closedlost",
]


def company_ids(seed: int, company: np.ndarray) -> np.ndarray:
    return seq_ids(seed, IdSpace.CRM_COMPANY, 0, np.asarray(company), base=9 * 10**9)


def build_companies(config: WorldConfig, vocab: Vocabulary) -> pa.Table:
    rng = np.random.default_rng([config.seed, 1, int(Stream.GLOBAL)])
    n = config.n_companies
    created = config.start_us - (rng.random(n) * 2 * 365 * US_PER_DAY).astype(np.int64)
    modified = created + (rng.random(n) * (config.end_us - created)).astype(np.int64)
    return pa.table(
        {
            "hs_object_id": int_text(company_ids(config.seed, np.arange(n))),
            "name": vocab.company_names,
            "domain": vocab.company_domains,
            "industry": take(vocab.industries, vocab.company_industry),
            "city": take(vocab.cities, vocab.company_city),
            "country": pick(pa.array(["United States", "US"]), (rng.random(n) < 0.2).astype(np.int64)),
            "createdate": text_datetime(created),
            "lastmodifieddate": text_datetime(modified),
            "_loaded_at": timestamps(np.full(n, config.end_us - 2 * US_PER_H)),
        }
    )


def build_crm(
    config: WorldConfig, people: People, life: Lifecycle, unsubscribed: np.ndarray, vocab: Vocabulary
) -> dict[str, pa.Table]:
    """contacts and deals; `unsubscribed` flags persons who opted out of marketing email."""
    rng = chunk_rng(config.seed, people.chunk.index, Stream.CRM)
    pur = life.purchases
    n_bought = np.bincount(pur.person, minlength=people.n)
    first_buy = np.full(people.n, config.end_us, dtype=np.int64)
    np.minimum.at(first_buy, pur.person, pur.t_us)
    buyer = n_bought > 0
    has_contact = people.known & np.where(buyer, rng.random(people.n) < 0.66, rng.random(people.n) < 0.3)
    base = np.flatnonzero(has_contact)
    # duplicates: the same person entered again by sales
    n_dup = at_least(int(rng.binomial(len(base), 0.04)), people.chunk, 10)
    dup_of = rng.choice(base, min(n_dup, len(base)), replace=False)
    person = np.concatenate([base, dup_of])
    is_dup = np.r_[np.zeros(len(base), dtype=bool), np.ones(len(dup_of), dtype=bool)]
    n = len(person)
    ids = seq_ids(config.seed, IdSpace.CRM_CONTACT, people.chunk.index, np.arange(n), base=10**10)

    created = np.maximum(people.acquired_us[person], config.start_us) + (rng.random(n) * 20 * US_PER_DAY).astype(
        np.int64
    )
    created = np.where(is_dup, created + (rng.random(n) * 200 * US_PER_DAY).astype(np.int64), created)
    created = np.minimum(created, config.end_us - US_PER_DAY)
    modified = created + (rng.random(n) * (config.end_us - created)).astype(np.int64)

    u = rng.random(n)
    canonical = at_rows(people.email, person)
    work = at_rows(people.work_email, person)
    old = at_rows(people.old_email, person)
    has_work = pc.is_valid(work).to_numpy(zero_copy_only=False)
    has_old = pc.is_valid(old).to_numpy(zero_copy_only=False)
    canonical = where(has_work & ((u < 0.1) | (is_dup & (u < 0.6))), work, canonical)
    canonical = where(has_old & ((u > 0.95) | (is_dup & (u > 0.6))), old, canonical)
    email = address_as_typed(rng, canonical, upper=0.05, mixed=0.08, spaces=0.03, gmail_dots=0.1)
    email = null_where(rng.random(n) < 0.03, email)

    first = first_name_entries(rng, vocab, people.first[person], nickname_rate=0.12, typo_rate=0.03, case_rate=0.08)
    nick = first_name_entries(rng, vocab, people.first[person], nickname_rate=1.0, typo_rate=0.1)
    first = where(is_dup & (rng.random(n) < 0.6), nick, first)
    last = last_name_entries(rng, vocab, people.last[person], typo_rate=0.03, case_rate=0.08)
    typo_last = last_name_entries(rng, vocab, people.last[person], typo_rate=1.0)
    last = where(is_dup & (rng.random(n) < 0.25), typo_last, last)

    landline = people.landline[person]
    mobile = people.mobile[person]
    main_number = np.where((landline > 0) & (rng.random(n) < 0.5), landline, mobile)
    phone = null_where(
        (main_number == 0) | (rng.random(n) < 0.3),
        phone_text(np.maximum(main_number, 2_000_000_000), random_phone_formats(rng, n)),
    )
    mobilephone = null_where(
        (mobile == 0) | (rng.random(n) < 0.6),
        phone_text(np.maximum(mobile, 2_000_000_000), random_phone_formats(rng, n)),
    )
    with_address = rng.random(n) < 0.6
    street = join(int_text(people.addr_number[person]), " ", take(vocab.streets, people.street[person]))

    stage = np.where(
        buyer[person],
        np.where(rng.random(n) < 0.05, 6, 5),
        rng.choice([0, 1, 2, 3, 4, 7], n, p=[0.3, 0.35, 0.15, 0.08, 0.07, 0.05]),
    )
    lead_status = null_where(rng.random(n) < 0.35, take(pa.array(LEAD_STATUS), rng.integers(0, len(LEAD_STATUS), n)))
    company = people.company[person]
    optout = np.where(unsubscribed[person], "true", "false")
    contacts = {
        "hs_object_id": int_text(ids),
        "firstname": first,
        "lastname": last,
        "email": email,
        "phone": phone,
        "mobilephone": mobilephone,
        "address": null_where(~with_address, street),
        "city": null_where(~with_address, take(vocab.cities, people.place[person])),
        "state": null_where(~with_address, take(vocab.states, people.place[person])),
        "zip": null_where(~with_address, take(vocab.zips, people.place[person])),
        "country": null_where(
            ~with_address,
            take(
                pa.array(["United States", "US", "USA", "united states"]),
                rng.choice(4, n, p=[0.6, 0.25, 0.1, 0.05]),
            ),
        ),
        "date_of_birth": null_where(rng.random(n) >= 0.25, text_date(people.birth_us[person])),
        "lifecyclestage": take(pa.array(STAGES), stage),
        "hs_lead_status": lead_status,
        "hs_email_optout": null_where(rng.random(n) < 0.2, pa.array(optout)),
        "associatedcompanyid": null_where(company < 0, int_text(company_ids(config.seed, np.maximum(company, 0)))),
        "createdate": text_datetime(created),
        "lastmodifieddate": text_datetime(modified),
        "_loaded_at": timestamps(modified + (rng.uniform(10, 600, n) * US_PER_MIN).astype(np.int64)),
        "_person_id": pa.array(people.pid[person]),
    }
    table = pa.table(contacts)
    # superseded versions: an earlier export of the same record (older lastmodifieddate, lead stage)
    n_old = at_least(int(rng.binomial(n, 0.01)), people.chunk, 5)
    older = rng.choice(n, min(n_old, n), replace=False)
    old_mod = created[older] + ((modified[older] - created[older]) * rng.random(len(older))).astype(np.int64)
    prev = table.take(pa.array(older))
    prev = prev.set_column(prev.schema.get_field_index("lastmodifieddate"), "lastmodifieddate", text_datetime(old_mod))
    prev = prev.set_column(prev.schema.get_field_index("_loaded_at"), "_loaded_at", timestamps(old_mod + US_PER_H))
    prev = prev.set_column(
        prev.schema.get_field_index("lifecyclestage"), "lifecyclestage", pa.repeat("lead", len(older))
    )
    contacts_table = pa.concat_tables([table, prev])

    # deals for a share of contacts
    d_rows = np.flatnonzero(~is_dup & (rng.random(n) < 0.06))
    m = len(d_rows)
    d_created = created[d_rows] + (rng.random(m) * 60 * US_PER_DAY).astype(np.int64)
    d_created = np.minimum(d_created, config.end_us - US_PER_DAY)
    d_close = d_created + (rng.uniform(5, 120, m) * US_PER_DAY).astype(np.int64)
    d_stage = rng.choice(len(DEAL_STAGES), m, p=[0.08, 0.1, 0.08, 0.06, 0.08, 0.4, 0.2])
    d_amount = (rng.lognormal(np.log(150000), 0.9, m)).astype(np.int64)
    d_company = company[d_rows]
    deal_name = join(
        where(
            d_company >= 0,
            take(vocab.company_names, np.maximum(d_company, 0)),
            take(vocab.last_names, people.last[person[d_rows]]),
        ),
        " - ",
        take(
            pa.array(["Bulk order", "Corporate gifts", "Store partnership", "Annual supply", "Event order"]),
            rng.integers(0, 5, m),
        ),
    )
    deals = pa.table(
        {
            "hs_object_id": int_text(
                seq_ids(config.seed, IdSpace.CRM_DEAL, people.chunk.index, np.arange(m), base=2 * 10**10)
            ),
            "dealname": deal_name,
            "amount": amount_text(d_amount),
            "dealstage": take(pa.array(DEAL_STAGES), d_stage),
            "pipeline": pick(pa.array(["default", "b2b"]), (rng.random(m) < 0.3).astype(np.int64)),
            "closedate": text_datetime(d_close),
            "createdate": text_datetime(d_created),
            "associated_contact_id": int_text(ids[d_rows]),
            "associated_company_id": null_where(
                d_company < 0, int_text(company_ids(config.seed, np.maximum(d_company, 0)))
            ),
            "_loaded_at": timestamps(np.minimum(d_close, config.end_us) + US_PER_H),
            "_person_id": pa.array(people.pid[person[d_rows]]),
        }
    )
    return {"contacts": contacts_table, "deals": deals}
