"""One chunk of the world, end to end: persons, behaviour, every source's rows, bad rows and truth."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from cdp.generate.ads import build_ad_spend, build_ads
from cdp.generate.badrows import LOADER_COLUMN, redeliver, spoil_chunk
from cdp.generate.behaviour import simulate_lifecycle
from cdp.generate.commerce import build_pos, build_shop, build_stores, plan_orders
from cdp.generate.config import ChunkSpec, WorldConfig
from cdp.generate.consent import build_consent
from cdp.generate.crm import build_companies, build_crm
from cdp.generate.email import build_email
from cdp.generate.identities import EmailRegistry
from cdp.generate.keys import Stream, chunk_rng
from cdp.generate.people import build_people
from cdp.generate.segment import build_segment
from cdp.generate.sessions import plan_sessions
from cdp.generate.support import build_tickets
from cdp.generate.truth import identifiers_table, persons_table, record_persons
from cdp.generate.vocab import Vocabulary

TableKey = tuple[str, str]

CHUNK_TABLES: tuple[TableKey, ...] = (
    ("segment", "identifies"),
    ("segment", "pages"),
    ("segment", "screens"),
    ("segment", "tracks"),
    ("email", "email_events"),
    ("ads", "ad_clicks"),
    ("ads", "ad_conversions"),
    ("pos", "transactions"),
    ("pos", "transaction_lines"),
    ("crm", "contacts"),
    ("crm", "deals"),
    ("support", "tickets"),
    ("shop", "customers"),
    ("shop", "orders"),
    ("shop", "order_lines"),
    ("consent", "consent_events"),
    ("consent", "deletion_requests"),
)
GLOBAL_TABLES: tuple[TableKey, ...] = (("pos", "stores"), ("crm", "companies"), ("ads", "ad_spend"))


@dataclass(frozen=True)
class ChunkOutput:
    chunk: ChunkSpec
    tables: dict[TableKey, pa.Table]
    truth: dict[str, pa.Table]

    @property
    def rows(self) -> int:
        return sum(t.num_rows for t in self.tables.values())


def build_global_tables(config: WorldConfig, vocab: Vocabulary) -> dict[TableKey, pa.Table]:
    """Tables that do not belong to any chunk of persons: stores, companies, daily ad spend."""
    tables = {
        ("pos", "stores"): build_stores(config, vocab),
        ("crm", "companies"): build_companies(config, vocab),
        ("ads", "ad_spend"): build_ad_spend(config, vocab),
    }
    rng = np.random.default_rng([config.seed, 2, int(Stream.GLOBAL)])
    first = config.chunks()[0]
    for key in (("crm", "companies"), ("ads", "ad_spend")):
        tables[key] = redeliver(rng, tables[key], LOADER_COLUMN[key], first)
    return tables


def build_chunk(config: WorldConfig, chunk: ChunkSpec, vocab: Vocabulary, registry: EmailRegistry) -> ChunkOutput:
    people = build_people(config, chunk, vocab, registry)
    life = simulate_lifecycle(config, people, vocab)
    sessions = plan_sessions(config, people, life, vocab)
    plan = plan_orders(config, people, life, sessions)
    tables: dict[TableKey, pa.Table] = {}
    segment = build_segment(config, people, life, sessions, vocab, plan.order_id, life.baskets.total_cents)
    for name, table in segment.items():
        tables[("segment", name)] = table
    shop = build_shop(config, people, life, sessions, plan, vocab)
    for name, table in shop.items():
        tables[("shop", name)] = table
    for name, table in build_pos(config, people, life, vocab).items():
        tables[("pos", name)] = table
    mail = build_email(config, people, life, shop["orders"], vocab)
    tables[("email", "email_events")] = mail.table
    for name, table in build_ads(config, people, life, sessions, plan, shop["orders"], vocab).items():
        tables[("ads", name)] = table
    unsubscribed = np.zeros(people.n, dtype=bool)
    unsubscribed[mail.unsub_person] = True
    for name, table in build_crm(config, people, life, unsubscribed, vocab).items():
        tables[("crm", name)] = table
    tables[("support", "tickets")] = build_tickets(config, people, life, vocab)
    for name, table in build_consent(config, people, sessions, mail).items():
        tables[("consent", name)] = table

    spoil_chunk(chunk_rng(config.seed, chunk.index, Stream.BAD_ROWS), tables, chunk)
    truth = {
        "persons": persons_table(people, life, vocab),
        "person_identifiers": identifiers_table(people),
        "record_persons": record_persons(tables),
    }
    return ChunkOutput(chunk, tables, truth)
