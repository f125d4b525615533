"""Segment warehouse tables (pages, screens, tracks, identifies) from the planned sessions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cdp.generate.arrowkit import (
    at_rows,
    dense,
    gather,
    join,
    money,
    null_where,
    nulls,
    pick,
    replace_rows,
    take,
    timestamps,
    uuid_string,
    where,
)
from cdp.generate.behaviour import Lifecycle, choose_products
from cdp.generate.config import WorldConfig, at_least
from cdp.generate.identities import email_as_typed, phone_text, random_phone_formats
from cdp.generate.keys import Kind, Stream, chunk_rng, key_hash
from cdp.generate.names import first_name_entries, last_name_entries
from cdp.generate.people import ANDROID_APP, DESKTOP_WEB, IOS_APP, MOBILE_WEB, People
from cdp.generate.sessions import KIOSK, PURCHASE, SIGNUP, Sessions, page_paths
from cdp.generate.timefmt import US_PER_DAY, US_PER_MIN, US_PER_S
from cdp.generate.vocab import PAGES, SCREENS, SITE, Vocabulary

HOME, CATEGORY, PRODUCT, SEARCH, CART, CHECKOUT, ACCOUNT, BLOG = range(8)
_LIBRARY = pa.array(["analytics.js", "analytics-ios", "analytics-android"])
_DEVICE_TYPE = pa.array(["ios", "android", "tablet"])
_DESKTOP_OS = pa.array(["Windows", "Windows", "Mac OS X", "Mac OS X", "Windows", "Windows", "Linux"])
_MOBILE_OS = pa.array(["iOS", "iOS", "Android", "Android", "Android"])
_APP_OS = pa.array(["iOS", "Android", "iPadOS"])
_TRACKS = [
    ("product_viewed", "Product Viewed"),
    ("product_added", "Product Added"),
    ("checkout_started", "Checkout Started"),
    ("order_completed", "Order Completed"),
    ("signed_up", "Signed Up"),
    ("application_opened", "Application Opened"),
    ("cart_viewed", "Cart Viewed"),
]
T_VIEWED, T_ADDED, T_CHECKOUT, T_ORDER, T_SIGNUP, T_APP_OPEN, T_CART = range(7)


@dataclass(frozen=True)
class Views:
    session: np.ndarray
    t_us: np.ndarray
    page_type: np.ndarray
    product: np.ndarray
    first: np.ndarray  # the landing view of its session
    signed_in: np.ndarray  # user_id known at this view


def _expand_views(rng: np.random.Generator, s: Sessions, life: Lifecycle, people: People, vocab: Vocabulary) -> Views:
    n = s.n
    baskets = life.baskets
    pur = np.maximum(s.purchase, 0)
    basket_views = np.where(s.kind == PURCHASE, np.minimum(gather(baskets.n_lines, pur), 3), 0)
    n_views = np.minimum(rng.geometric(0.33, n), 12)
    n_views = np.where(s.kind == PURCHASE, 3 + basket_views, n_views)
    n_views = np.where(s.kind == SIGNUP, 2 + np.minimum(rng.geometric(0.5, n), 4), n_views)
    n_views = np.where(s.kind == KIOSK, 2 + np.minimum(rng.poisson(2.0, n), 8), n_views)
    session = np.repeat(np.arange(n), n_views)
    first_idx = np.cumsum(n_views) - n_views
    k = np.arange(len(session)) - first_idx[session]
    last = k == n_views[session] - 1
    kind = s.kind[session]

    page_type = rng.choice(
        [HOME, CATEGORY, PRODUCT, SEARCH, ACCOUNT, BLOG], len(session), p=[0.1, 0.25, 0.47, 0.1, 0.04, 0.04]
    )
    page_type = np.where(k == 0, s.landing_type[session], page_type)
    product = choose_products(rng, people, s.person[session], vocab)
    product = np.where(k == 0, s.landing_product[session], product)
    is_pur = kind == PURCHASE
    basket_line = gather(baskets.line_start, pur[session]) + np.minimum(
        k - 1, gather(baskets.n_lines, pur[session]) - 1
    )
    mid = is_pur & (k >= 1) & (k <= basket_views[session])
    page_type = np.where(mid, PRODUCT, page_type)
    product = np.where(mid, gather(baskets.product, np.where(mid, basket_line, 0)), product)
    page_type = np.where(is_pur & (k == n_views[session] - 2), CART, page_type)
    page_type = np.where(is_pur & last, CHECKOUT, page_type)
    page_type = np.where((kind == SIGNUP) & last, ACCOUNT, page_type)

    gaps = (rng.exponential(45, len(session)) + 3) * US_PER_S
    gaps[first_idx] = 0
    offset = np.cumsum(gaps).astype(np.int64)
    offset -= offset[first_idx][session]
    last_offset = offset[first_idx + n_views - 1][session]
    anchor = np.where(
        kind == PURCHASE,
        gather(life.purchases.t_us, pur[session]) - 60 * US_PER_S,
        np.where(kind == SIGNUP, people.acquired_us[s.person[session]] + 5 * US_PER_S, -1),
    )
    t = np.where(anchor >= 0, anchor - (last_offset - offset), s.start_us[session] + offset)
    signed_in = s.logged_in[session] | ((kind == SIGNUP) & last)
    return Views(session, t, page_type, product, k == 0, signed_in)


@dataclass(frozen=True)
class EventFrame:
    """Rows of one Segment table before the common context columns are attached."""

    session: np.ndarray
    t_us: np.ndarray
    signed_in: np.ndarray
    page_url: pa.Array
    page_referrer: pa.Array
    landing: np.ndarray


def _common(
    rng: np.random.Generator,
    config: WorldConfig,
    people: People,
    s: Sessions,
    vocab: Vocabulary,
    f: EventFrame,
) -> dict[str, pa.Array]:
    m = len(f.session)
    sess = f.session
    dev_type = s.dev_type[sess]
    web = (dev_type == DESKTOP_WEB) | (dev_type == MOBILE_WEB)
    app = ~web
    ids = uuid_string(rng.integers(0, 2**63, m).astype(np.uint64), rng.integers(0, 2**63, m).astype(np.uint64))

    dev_key = people.dev_key[s.person[sess], np.maximum(s.slot[sess], 0)]
    skew_h = key_hash(config.seed, Kind.DEVICE_ID, dev_key, 77)
    skewed = (skew_h % np.uint64(1000)) < np.uint64(30)
    skew = np.where(
        skewed,
        ((skew_h >> np.uint64(20)) % np.uint64(4 * 24 * 60)).astype(np.int64) * US_PER_MIN - 2 * US_PER_DAY,
        0,
    )
    skew = np.where(s.slot[sess] < 0, 0, skew)
    send_delay = np.where(app, rng.uniform(1, 90, m), rng.uniform(0.05, 2, m)) * US_PER_S
    late = app & (rng.random(m) < 0.01)
    late_delay = np.where(late, rng.uniform(1, 10, m) * US_PER_DAY, 0)
    t = f.t_us
    original = t + skew
    sent = original + (send_delay + late_delay).astype(np.int64)
    received = t + (send_delay + late_delay).astype(np.int64)
    uuid_ts = received + (rng.uniform(5, 120, m) * US_PER_MIN).astype(np.int64)

    person = s.person[sess]
    user_id = null_where(~f.signed_in, take(people.user_id, person))
    agent = people.dev_agent[person, np.maximum(s.slot[sess], 0)]
    desktop = dev_type == DESKTOP_WEB
    n_desk = len(vocab.desktop_agents)
    ua_idx = np.where(desktop, agent % n_desk, n_desk + agent % len(vocab.mobile_agents))
    agents = pa.concat_arrays([vocab.desktop_agents, vocab.mobile_agents])
    ua = null_where(app, pick(agents, ua_idx))
    web_os = pa.concat_arrays([_DESKTOP_OS, _MOBILE_OS])
    app_os = np.select([dev_type == IOS_APP, dev_type == ANDROID_APP], [0, 1], 2)
    all_os = pa.concat_arrays([web_os, _APP_OS])
    os_name = pick(all_os, np.where(app, len(web_os) + app_os, ua_idx))
    library = np.select([web, dev_type == ANDROID_APP], [0, 2], 1)
    device_type = null_where(
        web, take(_DEVICE_TYPE, np.select([dev_type == IOS_APP, dev_type == ANDROID_APP], [0, 1], 2))
    )
    period = config.end_us - config.start_us
    version = np.clip(((t - config.start_us) * len(vocab.app_versions)) // period, 0, len(vocab.app_versions) - 1)
    app_version = null_where(web, take(vocab.app_versions, version))
    idx = pa.array(sess)
    landing = f.landing

    return {
        "id": ids,
        "anonymous_id": pc.take(s.anon_id, idx),
        "user_id": user_id,
        "timestamp": timestamps(t),
        "original_timestamp": timestamps(original),
        "sent_at": timestamps(sent),
        "received_at": timestamps(received),
        "uuid_ts": timestamps(uuid_ts),
        "context_ip": pc.take(s.ip, idx),
        "context_user_agent": ua,
        "context_library_name": pick(_LIBRARY, library),
        "context_page_url": f.page_url,
        "context_page_referrer": f.page_referrer,
        "context_campaign_source": null_where(~landing, pc.take(s.utm_source, idx)),
        "context_campaign_medium": null_where(~landing, pc.take(s.utm_medium, idx)),
        "context_campaign_name": null_where(~landing, pc.take(s.utm_campaign, idx)),
        "context_device_id": pc.take(s.device_id, idx),
        "context_device_advertising_id": pc.take(s.ad_id, idx),
        "context_device_type": device_type,
        "context_os_name": os_name,
        "context_app_version": app_version,
        "_person_id": pa.array(people.pid[person]),
    }


def _view_urls(s: Sessions, v: Views, vocab: Vocabulary, is_web: np.ndarray) -> tuple[pa.Array, pa.Array, pa.Array]:
    path = page_paths(vocab, v.page_type, v.product)
    search = null_where(~v.first, pc.take(s.search, pa.array(v.session)))
    url = join(SITE, path, pc.coalesce(search, ""))
    prev = np.maximum(np.arange(len(v.session)) - 1, 0)
    referrer = where(v.first, pc.take(s.referrer, pa.array(v.session)), pc.take(url, pa.array(prev)))
    return null_where(~is_web, path), null_where(~is_web, url), null_where(~is_web, referrer)


def build_segment(
    config: WorldConfig,
    people: People,
    life: Lifecycle,
    s: Sessions,
    vocab: Vocabulary,
    order_ids: np.ndarray,
    order_total_cents: np.ndarray,
) -> dict[str, pa.Table]:
    """pages, screens, tracks and identifies; `order_ids`/`order_total_cents` are per purchase."""
    rng = chunk_rng(config.seed, people.chunk.index, Stream.WEB + 100)
    v = _expand_views(rng, s, life, people, vocab)
    is_web = s.is_web[v.session]
    path, url, referrer = _view_urls(s, v, vocab, is_web)

    # pages
    w = np.flatnonzero(is_web)
    wi = pa.array(w)
    frame = EventFrame(v.session[w], v.t_us[w], v.signed_in[w], pc.take(url, wi), pc.take(referrer, wi), v.first[w])
    pages = _common(rng, config, people, s, vocab, frame)
    pages.update(
        {
            "name": pick(pa.array([p[0] for p in PAGES]), v.page_type[w]),
            "path": pc.take(path, wi),
            "title": pick(pa.array([p[2] for p in PAGES]), v.page_type[w]),
            "url": pages["context_page_url"],
            "referrer": pages["context_page_referrer"],
            "search": null_where(~v.first[w], pc.take(s.search, pa.array(v.session[w]))),
        }
    )

    # screens
    a = np.flatnonzero(~is_web)
    m = len(a)
    frame = EventFrame(v.session[a], v.t_us[a], v.signed_in[a], nulls(m), nulls(m), v.first[a])
    screens = _common(rng, config, people, s, vocab, frame)
    screen_type = np.where(s.kind[v.session[a]] == KIOSK, np.minimum(v.page_type[a], 6), v.page_type[a])
    screens["name"] = pick(pa.array(SCREENS), np.minimum(screen_type, len(SCREENS) - 1))

    tracks = _tracks(rng, config, people, life, s, vocab, v, url, order_ids, order_total_cents)
    identifies = _identifies(rng, config, people, s, vocab, v)
    return {
        "pages": pa.table(pages),
        "screens": pa.table(screens),
        "tracks": pa.table(tracks),
        "identifies": pa.table(identifies),
    }


def _tracks(
    rng: np.random.Generator,
    config: WorldConfig,
    people: People,
    life: Lifecycle,
    s: Sessions,
    vocab: Vocabulary,
    v: Views,
    url: pa.Array,
    order_ids: np.ndarray,
    order_total_cents: np.ndarray,
) -> dict[str, pa.Array]:
    n_v = len(v.session)
    kind = s.kind[v.session]
    is_pur = kind == PURCHASE
    viewed = (v.page_type == PRODUCT) & (is_pur | (rng.random(n_v) < 0.85))
    added = (v.page_type == PRODUCT) & ((is_pur & ~v.first) | (rng.random(n_v) < 0.08))
    checkout = v.page_type == CHECKOUT
    cart = (v.page_type == CART) & (rng.random(n_v) < 0.5)
    app_open = v.first & ~s.is_web[v.session]
    src_view, name, dt = [], [], []
    for mask, code, delay in (
        (viewed, T_VIEWED, 1),
        (added, T_ADDED, 15),
        (checkout, T_CHECKOUT, 1),
        (cart, T_CART, 1),
        (app_open, T_APP_OPEN, -1),
    ):
        rows = np.flatnonzero(mask)
        src_view.append(rows)
        name.append(np.full(len(rows), code))
        dt.append(np.full(len(rows), delay * US_PER_S))
    # purchase sessions end with order_completed at the purchase time (ad blockers drop some)
    last_view = np.flatnonzero(checkout & is_pur)
    last_view = last_view[rng.random(len(last_view)) < 0.92]
    src_view.append(last_view)
    name.append(np.full(len(last_view), T_ORDER))
    dt.append(np.full(len(last_view), 60 * US_PER_S))
    signup_last = np.flatnonzero((kind == SIGNUP) & (v.page_type == ACCOUNT) & v.signed_in)
    src_view.append(signup_last)
    name.append(np.full(len(signup_last), T_SIGNUP))
    dt.append(np.full(len(signup_last), 28 * US_PER_S))

    rows = np.concatenate(src_view)
    code = np.concatenate(name)
    t = v.t_us[rows] + np.concatenate(dt)
    sess = v.session[rows]
    is_web = s.is_web[sess]
    ri = pa.array(rows)
    frame = EventFrame(
        sess, t, v.signed_in[rows], null_where(~is_web, pc.take(url, ri)), nulls(len(rows)), v.first[rows]
    )
    out = _common(rng, config, people, s, vocab, frame)
    product_event = np.isin(code, (T_VIEWED, T_ADDED))
    pur = s.purchase[sess]
    order = code == T_ORDER
    out.update(
        {
            "event": pick(pa.array([e for e, _ in _TRACKS]), code),
            "event_text": pick(pa.array([e for _, e in _TRACKS]), code),
            "product_id": null_where(~product_event, take(vocab.product_ids, v.product[rows])),
            "product_category": null_where(
                ~product_event, take(vocab.categories, vocab.product_category[v.product[rows]])
            ),
            "order_id": null_where(~order, pc.cast(pa.array(gather(order_ids, pur)), pa.string())),
            "revenue": money(gather(order_total_cents, pur), null_mask=~order),
        }
    )
    # a broken client build sends the literal string "anonymous" as user_id
    signed = np.flatnonzero(v.signed_in[rows])
    n_bad = at_least(int(rng.binomial(len(signed), 0.0008)), people.chunk, 6)
    bad = rng.choice(signed, min(n_bad, len(signed)), replace=False) if len(signed) else signed
    out["user_id"] = replace_rows(out["user_id"], bad, pa.repeat("anonymous", len(bad)))
    return out


def _identifies(
    rng: np.random.Generator, config: WorldConfig, people: People, s: Sessions, vocab: Vocabulary, v: Views
) -> dict[str, pa.Array]:
    sess = np.flatnonzero(s.identify | (s.kind == SIGNUP))
    signup = s.kind[sess] == SIGNUP
    first_view = np.searchsorted(v.session, sess)
    t = np.where(signup, people.acquired_us[s.person[sess]], v.t_us[first_view] - US_PER_S)
    m = len(sess)
    is_web = s.is_web[sess]
    urls = join(SITE, where(signup, "/account/register", "/account/login"))
    frame = EventFrame(sess, t, np.ones(m, dtype=bool), null_where(~is_web, urls), nulls(m), np.zeros(m, dtype=bool))
    out = _common(rng, config, people, s, vocab, frame)
    person = s.person[sess]
    with_email = signup | (rng.random(m) < 0.4)
    email = email_as_typed(
        rng, at_rows(people.email_local, person), at_rows(people.email_domain, person), plus_tag=0.03
    )
    email = null_where(~with_email, email)
    names = signup | (rng.random(m) < 0.1)
    first = null_where(~names, first_name_entries(rng, vocab, people.first[person], nickname_rate=0.05))
    last = null_where(~names, last_name_entries(rng, vocab, people.last[person]))
    has_phone = signup & (people.mobile[person] > 0) & (rng.random(m) < 0.6)
    phone = null_where(
        ~has_phone, phone_text(np.maximum(people.mobile[person], 2_000_000_000), random_phone_formats(rng, m))
    )
    # junk traits: placeholders typed into forms
    junk = rng.random(m) < 0.003
    junk_rows = np.flatnonzero(junk & signup)
    if len(junk_rows) < at_least(0, people.chunk, 3):
        junk_rows = np.flatnonzero(signup)[:3]
    junk_words = pa.array(["null", "N/A", "none", "unknown"])
    jw = take(junk_words, rng.integers(0, 4, len(junk_rows)))
    first = replace_rows(first, junk_rows, jw)
    email = replace_rows(email, junk_rows[::2], take(junk_words, rng.integers(0, 4, len(junk_rows[::2]))))
    phone = replace_rows(
        phone,
        junk_rows[1::2],
        take(pa.array(["0000000000", "555-555-5555", "N/A"]), rng.integers(0, 3, len(junk_rows[1::2]))),
    )
    out.update({"email": dense(email), "first_name": first, "last_name": last, "phone": phone})
    return out
