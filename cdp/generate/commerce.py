"""The online shop (customers, orders, order lines) and the stores' point of sale (transactions, lines)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cdp.generate.arrowkit import (
    amount_text,
    at_rows,
    digit_string,
    int_text,
    join,
    money,
    null_where,
    pick,
    replace_rows,
    take,
    timestamps,
    where,
)
from cdp.generate.behaviour import Lifecycle
from cdp.generate.config import WorldConfig, at_least
from cdp.generate.identities import address_as_typed, phone_text, random_phone_formats
from cdp.generate.keys import IdSpace, Stream, chunk_rng, seq_ids
from cdp.generate.names import first_name_entries, last_name_entries, with_typos
from cdp.generate.people import DESKTOP_WEB, MOBILE_WEB, People
from cdp.generate.sessions import Sessions
from cdp.generate.timefmt import (
    US_PER_DAY,
    US_PER_H,
    US_PER_MIN,
    new_york_offset_minutes,
    text_date,
    text_time,
)
from cdp.generate.vocab import Vocabulary

TEST_EMAIL = "test@test.com"


@dataclass(frozen=True)
class ShopPlan:
    """Per purchase: the shop order id (online purchases) and the purchase session."""

    order_id: np.ndarray  # 0 for store purchases
    session: np.ndarray  # index into Sessions, -1 for store purchases


def plan_orders(config: WorldConfig, people: People, life: Lifecycle, sessions: Sessions) -> ShopPlan:
    pur = life.purchases
    online = np.flatnonzero(pur.online)
    order_id = np.zeros(pur.n, dtype=np.int64)
    order_id[online] = seq_ids(config.seed, IdSpace.SHOP_ORDER, people.chunk.index, np.arange(len(online)))
    session = np.full(pur.n, -1, dtype=np.int64)
    with_session = np.flatnonzero(sessions.purchase >= 0)
    session[sessions.purchase[with_session]] = with_session
    return ShopPlan(order_id, session)


def shop_customer_ids(config: WorldConfig, people: People) -> np.ndarray:
    return seq_ids(config.seed, IdSpace.SHOP_CUSTOMER, people.chunk.index, np.arange(people.n), base=6 * 10**12)


def _street_line(vocab: Vocabulary, people: People, rows: np.ndarray) -> pa.Array:
    line = join(int_text(people.addr_number[rows]), " ", take(vocab.streets, people.street[rows]))
    unit = people.unit[rows]
    return where(unit > 0, join(line, " Apt ", int_text(np.maximum(unit, 0))), line)


def _zip_as_entered(rng: np.random.Generator, zips: pa.Array) -> pa.Array:
    plus4 = join(zips, "-", digit_string(rng.integers(0, 10000, len(zips)), 4))
    return where(rng.random(len(zips)) < 0.06, plus4, zips)


def build_shop(
    config: WorldConfig,
    people: People,
    life: Lifecycle,
    sessions: Sessions,
    plan: ShopPlan,
    vocab: Vocabulary,
) -> dict[str, pa.Table]:
    rng = chunk_rng(config.seed, people.chunk.index, Stream.COMMERCE)
    pur = life.purchases
    b = life.baskets
    cust_ids = shop_customer_ids(config, people)

    rows = np.flatnonzero(pur.online)
    n = len(rows)
    person = pur.person[rows]
    t = pur.t_us[rows]
    sess = plan.session[rows]
    logged_in = sessions.logged_in[sess]
    acct = people.has_account[person]

    # shop customers: every site account, and most guest buyers (created at their first order)
    guest_buyer = np.zeros(people.n, dtype=bool)
    guest_buyer[person[~acct]] = True
    guest_has_customer = guest_buyer & (rng.random(people.n) < 0.6)
    first_order = np.full(people.n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_order, person, t)
    cust = np.flatnonzero(people.has_account | guest_has_customer)
    created = np.where(
        people.has_account[cust], np.maximum(people.acquired_us[cust], config.start_us), first_order[cust]
    )
    created = np.minimum(created, config.end_us - US_PER_H)
    updated = created + (rng.random(len(cust)) * (config.end_us - created)).astype(np.int64)
    c_email = address_as_typed(rng, at_rows(people.email, cust), plus_tag=0.02)
    customers = {
        "id": pa.array(cust_ids[cust]),
        "email": c_email,
        "first_name": first_name_entries(rng, vocab, people.first[cust], typo_rate=0.02),
        "last_name": last_name_entries(rng, vocab, people.last[cust], typo_rate=0.02),
        "phone": null_where(
            (people.mobile[cust] == 0) | (rng.random(len(cust)) < 0.5),
            phone_text(np.maximum(people.mobile[cust], 2_000_000_000), random_phone_formats(rng, len(cust))),
        ),
        "accepts_marketing": pa.array(people.subscribed[cust]),
        "default_address_address1": _street_line(vocab, people, cust),
        "default_address_city": take(vocab.cities, people.place[cust]),
        "default_address_province_code": take(vocab.states, people.place[cust]),
        "default_address_zip": _zip_as_entered(rng, take(vocab.zips, people.place[cust])),
        "default_address_country_code": pa.repeat("US", len(cust)),
        "created_at": timestamps(created),
        "updated_at": timestamps(updated),
        "_fivetran_synced": timestamps(updated + (rng.uniform(10, 600, len(cust)) * US_PER_MIN).astype(np.int64)),
        "_person_id": pa.array(people.pid[cust]),
    }

    # the address typed at checkout
    u = rng.random(n)
    shared = at_rows(people.shared_email, person)
    has_shared = pc.is_valid(shared).to_numpy(zero_copy_only=False)
    work = at_rows(people.work_email, person)
    has_work = pc.is_valid(work).to_numpy(zero_copy_only=False)
    canonical = at_rows(people.email, person)
    canonical = where(has_work & (u < 0.12), work, canonical)
    canonical = where(has_shared & (u > 0.55), shared, canonical)
    canonical = where((u > 0.2) & (u < 0.22), at_rows(people.typo_email, person), canonical)
    email = address_as_typed(rng, canonical, plus_tag=0.06, upper=0.04, mixed=0.06, spaces=0.03)
    n_test = at_least(int(rng.binomial(n, 0.0004)), people.chunk, 25)
    test_rows = rng.choice(n, min(n_test, n), replace=False)
    email = replace_rows(email, test_rows, pa.repeat(TEST_EMAIL, len(test_rows)))

    phone = phone_text(np.maximum(people.mobile[person], 2_000_000_000), random_phone_formats(rng, n))
    phone = null_where((people.mobile[person] == 0) | (rng.random(n) < 0.45), phone)
    n_junk = at_least(int(rng.binomial(n, 0.002)), people.chunk, 6)
    junk_rows = rng.choice(n, min(n_junk, n), replace=False)
    phone = replace_rows(
        phone,
        junk_rows,
        take(pa.array(["0000000000", "555-555-5555", "N/A", "none"]), np.arange(len(junk_rows)) % 4),
    )

    with_customer = people.has_account[person] | guest_has_customer[person]
    customer_id = null_where(~with_customer, pa.array(cust_ids[person]))
    user_id = null_where(~logged_in, at_rows(people.user_id, person))

    status = rng.choice(5, n, p=[0.9, 0.02, 0.03, 0.03, 0.02])
    cancelled = (status == 4) | ((status == 2) & (rng.random(n) < 0.5))
    cancelled_at = t + (rng.uniform(0.5, 72, n) * US_PER_H).astype(np.int64)

    # shipping: own address mostly, sometimes a gift to another address, sometimes mistyped
    gift = rng.random(n) < 0.04
    other_place = rng.integers(0, len(vocab.cities), n)
    address1 = _street_line(vocab, people, person)
    other_line = join(
        int_text(rng.integers(1, 9900, n)), " ", take(vocab.streets, rng.integers(0, len(vocab.streets), n))
    )
    address1 = where(gift, other_line, address1)
    address1 = with_typos(rng, address1, 0.02)
    place = np.where(gift, other_place, people.place[person])
    ship_first = first_name_entries(
        rng, vocab, np.where(gift, rng.integers(0, len(vocab.first_names), n), people.first[person])
    )
    ship_last = last_name_entries(rng, vocab, people.last[person])

    dev = sessions.dev_type[np.maximum(sess, 0)]
    web = (dev == DESKTOP_WEB) | (dev == MOBILE_WEB)
    sub, tax, total = b.subtotal_cents[rows], b.tax_cents[rows], b.total_cents[rows]
    synced = np.maximum(t, np.where(cancelled, cancelled_at, t)) + (rng.uniform(5, 360, n) * US_PER_MIN).astype(
        np.int64
    )
    order_ids = plan.order_id[rows]
    orders = {
        "id": pa.array(order_ids),
        "name": join("#", int_text(1001 + people.chunk.index * 200_000 + np.arange(n))),
        "email": email,
        "customer_id": customer_id,
        "user_id": user_id,
        "phone": phone,
        "created_at": timestamps(t),
        "processed_at": timestamps(t + (rng.uniform(1, 30, n) * 1_000_000).astype(np.int64)),
        "cancelled_at": timestamps(cancelled_at, null_mask=~cancelled),
        "financial_status": pick(pa.array(["paid", "pending", "refunded", "partially_refunded", "voided"]), status),
        "currency": pa.repeat("USD", n),
        "subtotal_price": money(sub),
        "total_tax": money(tax),
        "total_price": money(total),
        "shipping_address_first_name": ship_first,
        "shipping_address_last_name": ship_last,
        "shipping_address_address1": address1,
        "shipping_address_city": take(vocab.cities, place),
        "shipping_address_province_code": take(vocab.states, place),
        "shipping_address_zip": _zip_as_entered(rng, take(vocab.zips, place)),
        "shipping_address_country_code": pa.repeat("US", n),
        "landing_site": null_where(~web, at_rows(sessions.landing_url, np.maximum(sess, 0))),
        "source_name": pick(pa.array(["web", "mobile_app"]), np.where(web, 0, 1)),
        "_fivetran_synced": timestamps(synced),
        "_person_id": pa.array(people.pid[person]),
    }

    # order lines
    online_purchase = np.zeros(pur.n, dtype=bool)
    online_purchase[rows] = True
    lines = np.flatnonzero(online_purchase[b.purchase])
    lp = b.purchase[lines]
    order_synced = np.zeros(pur.n, dtype=np.int64)
    order_synced[rows] = synced
    order_lines = {
        "id": pa.array(seq_ids(config.seed, IdSpace.SHOP_ORDER_LINE, people.chunk.index, np.arange(len(lines)))),
        "order_id": pa.array(plan.order_id[lp]),
        "product_id": take(vocab.product_ids, b.product[lines]),
        "sku": take(vocab.product_skus, b.product[lines]),
        "title": take(vocab.product_titles, b.product[lines]),
        "product_type": pick(vocab.categories, vocab.product_category[b.product[lines]]),
        "quantity": pa.array(b.quantity[lines].astype(np.int32)),
        "price": money(b.unit_cents[lines]),
        "_fivetran_synced": timestamps(order_synced[lp]),
        "_person_id": pa.array(people.pid[pur.person[lp]]),
    }
    return {
        "customers": pa.table(customers),
        "orders": pa.table(orders),
        "order_lines": pa.table(order_lines),
    }


def _local_text(t_us: np.ndarray) -> tuple[pa.Array, pa.Array]:
    local = t_us + new_york_offset_minutes(t_us) * US_PER_MIN
    return text_date(local), text_time(local)


def build_pos(config: WorldConfig, people: People, life: Lifecycle, vocab: Vocabulary) -> dict[str, pa.Table]:
    rng = chunk_rng(config.seed, people.chunk.index, Stream.COMMERCE + 100)
    pur = life.purchases
    b = life.baskets
    sale = np.flatnonzero(~pur.online)
    # returns: a share of sales brought back 2-30 days later, one line each
    returned = sale[rng.random(len(sale)) < 0.04]
    ret_t = pur.t_us[returned] + (rng.uniform(2, 30, len(returned)) * US_PER_DAY).astype(np.int64)
    keep = ret_t < config.end_us - US_PER_DAY
    returned, ret_t = returned[keep], ret_t[keep]
    purchase = np.concatenate([sale, returned])
    is_return = np.r_[np.zeros(len(sale), dtype=bool), np.ones(len(returned), dtype=bool)]
    t = np.concatenate([pur.t_us[sale], ret_t])
    n = len(purchase)
    person = pur.person[purchase]

    store = np.where(rng.random(n) < 0.8, people.home_store[person], rng.integers(0, len(vocab.store_ids), n))
    store[len(sale) :] = store[: len(sale)][np.searchsorted(sale, returned)]
    tx_num = seq_ids(config.seed, IdSpace.POS_TRANSACTION, people.chunk.index, np.arange(n), base=10**11)
    store_ids = take(vocab.store_ids, store)
    tx_id = join(store_ids, "-", digit_string(tx_num, 12))

    loyalty = people.loyalty[person] & (rng.random(n) < 0.8)
    method = rng.choice(3, n, p=[0.45, 0.43, 0.12])  # cash, card, mobile
    card = np.where(method == 2, 2, rng.integers(0, 2, n) % people.n_cards[person])
    card_token = null_where(method == 0, people.card_tokens(person, card))
    receipt_email = null_where(
        rng.random(n) >= 0.15,
        address_as_typed(
            rng,
            where(
                pc.is_valid(at_rows(people.shared_email, person)).to_numpy(zero_copy_only=False)
                & (rng.random(n) < 0.5),
                at_rows(people.shared_email, person),
                at_rows(people.email, person),
            ),
            upper=0.05,
        ),
    )
    receipt_phone = null_where(
        (rng.random(n) >= 0.08) | (people.mobile[person] == 0),
        phone_text(np.maximum(people.mobile[person], 2_000_000_000), random_phone_formats(rng, n)),
    )

    # line items: a sale has its basket, a return one of the basket's lines
    sale_lines = np.flatnonzero(~pur.online[b.purchase])
    tx_of_sale = np.full(pur.n, -1, dtype=np.int64)
    tx_of_sale[sale] = np.arange(len(sale))
    ret_line = b.line_start[returned] + (rng.random(len(returned)) * b.n_lines[returned]).astype(np.int64)
    line_src = np.concatenate([sale_lines, ret_line])
    line_tx = np.concatenate([tx_of_sale[b.purchase[sale_lines]], len(sale) + np.arange(len(returned))])
    line_no = np.concatenate([b.line_no[sale_lines], np.ones(len(returned), dtype=np.int64)])
    qty = b.quantity[line_src]
    unit = b.unit_cents[line_src]
    items = np.bincount(line_tx, weights=qty, minlength=n).astype(np.int64)
    sub = np.bincount(line_tx, weights=qty * unit, minlength=n).astype(np.int64)
    total = sub + np.round(sub * 0.0725).astype(np.int64)
    total = np.where(is_return, -total, total)

    date_txt, time_txt = _local_text(t)
    loaded = t + (rng.uniform(2, 26, n) * US_PER_H).astype(np.int64)
    transactions = {
        "transaction_id": tx_id,
        "store_id": store_ids,
        "register_id": join("R", int_text(rng.integers(1, 7, n))),
        "transaction_date": date_txt,
        "transaction_time": time_txt,
        "transaction_type": pick(pa.array(["sale", "return"]), is_return.astype(np.int64)),
        "loyalty_id": null_where(~loyalty, people.loyalty_ids(person)),
        "card_token": card_token,
        "payment_method": pick(pa.array(["cash", "card", "mobile"]), method),
        "receipt_email": receipt_email,
        "receipt_phone": receipt_phone,
        "item_count": int_text(items),
        "total_amount": amount_text(total),
        "currency": pa.repeat("USD", n),
        "_loaded_at": timestamps(loaded),
        "_person_id": pa.array(people.pid[person]),
    }
    li = pa.array(line_tx)
    lines = {
        "transaction_id": pc.take(tx_id, li),
        "line_number": int_text(line_no),
        "sku": take(vocab.product_skus, b.product[line_src]),
        "product_id": take(vocab.product_ids, b.product[line_src]),
        "category": pick(vocab.categories, vocab.product_category[b.product[line_src]]),
        "quantity": int_text(qty),
        "unit_price": amount_text(unit),
        "_loaded_at": timestamps(loaded[line_tx]),
        "_person_id": pa.array(people.pid[person[line_tx]]),
    }
    return {"transactions": pa.table(transactions), "transaction_lines": pa.table(lines)}


def build_stores(config: WorldConfig, vocab: Vocabulary) -> pa.Table:
    n = len(vocab.store_ids)
    return pa.table(
        {
            "store_id": vocab.store_ids,
            "store_name": vocab.store_names,
            "city": take(vocab.cities, vocab.store_city),
            "state": take(vocab.states, vocab.store_city),
            "postcode": take(vocab.zips, vocab.store_city),
            "opened_on": text_date(vocab.store_opened_us),
            "_loaded_at": timestamps(np.full(n, config.end_us - US_PER_H)),
        }
    )
