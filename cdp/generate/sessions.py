"""Visits to the site and the apps: when, on which device, logged in or not, and how they landed.

Sessions are planned here (one row each); segment.py expands them into events and ads.py reads
the ad clicks they start with.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cdp.generate.arrowkit import (
    b64_matrix,
    dense,
    hcat,
    join,
    literal,
    null_where,
    strings_from_matrix,
    take,
    uuid_string,
    where,
)
from cdp.generate.behaviour import Lifecycle, choose_products
from cdp.generate.config import WorldConfig, at_least
from cdp.generate.keys import Kind, Stream, chunk_rng, key_hash
from cdp.generate.people import (
    APP_TYPES,
    DESKTOP_WEB,
    MOBILE_WEB,
    NO_DEVICE,
    TABLET_APP,
    People,
    ip_text,
)
from cdp.generate.timefmt import US_PER_DAY, US_PER_H, US_PER_MIN, US_PER_YEAR
from cdp.generate.vocab import PAGES, SITE, Vocabulary

BROWSE, SIGNUP, PURCHASE, KIOSK = 0, 1, 2, 3
DORMANT_VISIT_FACTOR = 0.1  # visits after churn, relative to before
KIOSK_SLOT = -1
# landing page types (index into vocab.PAGES)
HOME, CATEGORY, PRODUCT, BLOG = 0, 1, 2, 7
GOOGLE, META = 0, 1


@dataclass(frozen=True)
class Sessions:
    person: np.ndarray
    start_us: np.ndarray
    slot: np.ndarray  # device slot of the person, KIOSK_SLOT for the store kiosk
    dev_type: np.ndarray
    kind: np.ndarray
    logged_in: np.ndarray
    purchase: np.ndarray  # index into Purchases, -1 when none
    identify: np.ndarray  # an identify call opens the session
    new_cookie: np.ndarray  # first visit of this browser cookie / app install
    anon_id: pa.Array
    device_id: pa.Array
    ad_id: pa.Array
    ip: pa.Array
    platform: np.ndarray  # GOOGLE / META for ad-click landings, -1 otherwise
    campaign: np.ndarray  # ad campaign index, -1
    ad_group: np.ndarray
    click_id: pa.Array
    utm_source: pa.Array
    utm_medium: pa.Array
    utm_campaign: pa.Array
    referrer: pa.Array
    landing_type: np.ndarray  # page type of the first view
    landing_product: np.ndarray
    landing_path: pa.Array
    search: pa.Array  # query string of the landing URL ("?utm_source=..."), null when none
    landing_url: pa.Array  # null for app sessions

    @property
    def n(self) -> int:
        return len(self.person)

    @property
    def is_web(self) -> np.ndarray:
        return (self.dev_type == DESKTOP_WEB) | (self.dev_type == MOBILE_WEB)


def kiosk_ids(seed: int) -> tuple[str, str]:
    """The in-store kiosk iPad: one anonymous_id and one device id for every shopper using it."""
    h = key_hash(seed, Kind.KIOSK, np.arange(4))
    anon = uuid_string(h[0:1], h[1:2], upper=True)[0].as_py()
    device = uuid_string(h[2:3], h[3:4], upper=True)[0].as_py()
    return anon, device


def _poisson_times(
    rng: np.random.Generator, rate_per_year: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Poisson arrivals in [lo, hi) per person: (person row, time)."""
    span = np.maximum(hi - lo, 0)
    counts = rng.poisson(rate_per_year * span / US_PER_YEAR)
    person = np.repeat(np.arange(len(rate_per_year)), counts)
    t = lo[person] + (rng.random(len(person)) * span[person]).astype(np.int64)
    return person, t


def _pick_slot(rng: np.random.Generator, people: People, person: np.ndarray, t: np.ndarray) -> np.ndarray:
    weights = np.array([0.5, 0.35, 0.15])
    dtype = people.dev_type[person]
    w = np.where(dtype != NO_DEVICE, weights[None, :], 0.0)
    before_signup = t < people.acquired_us[person]
    w = np.where(before_signup[:, None] & np.isin(dtype, APP_TYPES), 0.0, w)
    w[:, 0] = np.where(w.sum(axis=1) == 0, 1.0, w[:, 0])
    cum = np.cumsum(w / w.sum(axis=1, keepdims=True), axis=1)
    return np.minimum((rng.random(len(person))[:, None] > cum).sum(axis=1), 2)


def plan_sessions(config: WorldConfig, people: People, life: Lifecycle, vocab: Vocabulary) -> Sessions:
    rng = chunk_rng(config.seed, people.chunk.index, Stream.WEB)
    start, end = config.start_us, config.end_us
    churned = life.churned_us
    lo = np.maximum(people.first_seen_us, start)
    mid = np.clip(np.minimum(churned, end), lo, end)
    p_act, t_act = _poisson_times(rng, people.visit_rate, lo, mid)
    p_dor, t_dor = _poisson_times(rng, people.visit_rate * DORMANT_VISIT_FACTOR, mid, np.full(people.n, end))

    # sign-up: a browsing session on the first device, then the identify tying its anonymous id
    signup_p = np.flatnonzero(people.has_account & (people.acquired_us >= start))
    signup_t = people.acquired_us[signup_p] - (rng.uniform(3, 25, len(signup_p)) * US_PER_MIN).astype(np.int64)

    pur = life.purchases
    online = np.flatnonzero(pur.online)
    purchase_t = pur.t_us[online] - (rng.uniform(4, 40, len(online)) * US_PER_MIN).astype(np.int64)

    kiosk_p = np.flatnonzero(people.kiosk_user)
    n_kiosk_visits = rng.choice([1, 2], len(kiosk_p), p=[0.7, 0.3])
    kiosk_p = np.repeat(kiosk_p, n_kiosk_visits)
    k_lo = np.maximum(people.acquired_us[kiosk_p], start)
    kiosk_t = k_lo + (rng.random(len(kiosk_p)) * np.maximum(end - US_PER_DAY - k_lo, US_PER_H)).astype(np.int64)
    kiosk_t = kiosk_t // US_PER_DAY * US_PER_DAY + (15 + rng.random(len(kiosk_p)) * 10).astype(np.int64) * US_PER_H

    person = np.concatenate([p_act, p_dor, signup_p, pur.person[online], kiosk_p])
    start_us = np.concatenate([t_act, t_dor, signup_t, purchase_t, np.minimum(kiosk_t, end - US_PER_H)])
    kind = np.concatenate(
        [
            np.full(len(p_act) + len(p_dor), BROWSE),
            np.full(len(signup_p), SIGNUP),
            np.full(len(online), PURCHASE),
            np.full(len(kiosk_p), KIOSK),
        ]
    )
    purchase = np.concatenate([np.full(len(p_act) + len(p_dor) + len(signup_p), -1), online, np.full(len(kiosk_p), -1)])
    n = len(person)

    slot = _pick_slot(rng, people, person, start_us)
    slot = np.where(kind == SIGNUP, 0, slot)
    slot = np.where(kind == KIOSK, KIOSK_SLOT, slot)
    dev_type = np.where(kind == KIOSK, TABLET_APP, people.dev_type[person, np.maximum(slot, 0)])
    app = np.isin(dev_type, APP_TYPES)

    after_signup = start_us >= people.acquired_us[person]
    acct = people.has_account[person]
    logged_in = acct & after_signup & (rng.random(n) < np.where(app, 0.97, 0.8))
    logged_in |= kind == KIOSK
    logged_in &= kind != SIGNUP  # logs in (signs up) during the session

    # identify: first logged-in visit of each browser cookie / app install, plus some re-logins
    safe_slot = np.maximum(slot, 0)
    rotation = (start_us[:, None] >= people.rot_bounds[person, safe_slot]).sum(axis=1)
    key_slot = np.where(slot < 0, 3, slot)  # the kiosk is a device of its own
    key = (people.pid[person] * 4 + key_slot) * 4 + rotation
    order = np.lexsort((start_us, key))
    first_of_key = np.ones(n, dtype=bool)
    ks = key[order]
    first_of_key[order[1:]] = ks[1:] != ks[:-1]
    identify = logged_in & (first_of_key | (rng.random(n) < 0.05))
    identify |= kind == KIOSK

    kiosk_anon, kiosk_device = kiosk_ids(config.seed)
    anon = people.anonymous_ids(person, safe_slot, start_us)
    anon = where(kind == KIOSK, kiosk_anon, anon)
    device_id = where(kind == KIOSK, kiosk_device, dense(people.device_ids(person, safe_slot)))
    ad_id = null_where(kind == KIOSK, people.advertising_ids(person, safe_slot))
    home = np.isin(dev_type, (DESKTOP_WEB, TABLET_APP)) | (rng.random(n) < 0.4)
    ip = where(home, people.home_ips(person), ip_text(rng.integers(0, 2**63, n).astype(np.uint64)))
    store_ip = ip_text(key_hash(config.seed, Kind.KIOSK, 99))[0].as_py()
    ip = where(kind == KIOSK, store_ip, ip)

    # how the visit landed: ad click, email, social, search, direct
    web = (dev_type == DESKTOP_WEB) | (dev_type == MOBILE_WEB)
    u = rng.random(n)
    ad_rate = np.select([kind == PURCHASE, kind == SIGNUP], [0.2, 0.15], 0.12)
    is_ad = web & (u < ad_rate)
    min_ads = at_least(0, people.chunk, 8)
    if is_ad.sum() < min_ads:
        is_ad[np.flatnonzero(web & ~is_ad)[: min_ads - int(is_ad.sum())]] = True
    is_email = web & ~is_ad & (rng.random(n) < 0.08)
    is_social = web & ~is_ad & ~is_email & (rng.random(n) < 0.05)
    is_search = web & ~is_ad & ~is_email & ~is_social & (rng.random(n) < 0.3)

    platform = np.where(is_ad, (rng.random(n) < 0.4).astype(np.int64), -1)
    campaign = np.where(is_ad, platform * 10 + rng.integers(0, 10, n), -1)
    ad_group = np.where(is_ad, np.maximum(campaign, 0) * 3 + rng.integers(0, 3, n), -1)
    words = [rng.integers(0, 2**63, n).astype(np.uint64) for _ in range(7)]
    gclid = strings_from_matrix(hcat(literal("Cj0KCQiA", n), b64_matrix(words, 64)))
    fbclid = strings_from_matrix(hcat(literal("IwAR", n), b64_matrix(words[::-1], 56)))
    click_id = null_where(~is_ad, where(platform == META, fbclid, gclid))

    email_camp = rng.integers(0, len(vocab.email_campaign_ids), n)
    email_slug = pc.utf8_lower(pc.replace_substring(take(vocab.email_campaign_names, email_camp), " ", "_"))
    social_src = take(pa.array(["instagram", "facebook", "tiktok", "pinterest"]), rng.integers(0, 4, n))
    ad_slug = take(vocab.ad_campaign_slugs, np.maximum(campaign, 0))
    utm_source = where(is_ad, where(platform == META, "facebook", "google"), pa.nulls(n, pa.string()))
    utm_source = where(is_email, "newsletter", where(is_social, social_src, utm_source))
    utm_medium = where(is_ad, where(platform == META, "paid_social", "cpc"), pa.nulls(n, pa.string()))
    utm_medium = where(is_email, "email", where(is_social, "social", utm_medium))
    utm_campaign = where(is_ad, ad_slug, pa.nulls(n, pa.string()))
    utm_campaign = where(is_email, email_slug, where(is_social, "organic_social", utm_campaign))
    referrer = where(
        is_ad,
        where(platform == META, "https://l.facebook.com/", "https://www.google.com/"),
        pa.nulls(n, pa.string()),
    )
    referrer = where(
        is_search,
        "https://www.google.com/",
        where(is_social, join("https://", social_src, ".com/"), referrer),
    )

    landing_type = rng.choice([HOME, CATEGORY, PRODUCT, BLOG], n, p=[0.45, 0.2, 0.3, 0.05])
    landing_type = np.where(is_ad, np.where(rng.random(n) < 0.6, PRODUCT, CATEGORY), landing_type)
    landing_product = choose_products(rng, people, person, vocab)
    path = page_paths(vocab, landing_type, landing_product)
    query = join("?utm_source=", utm_source, "&utm_medium=", utm_medium, "&utm_campaign=", utm_campaign)
    with_click = join(query, where(platform == META, "&fbclid=", "&gclid="), click_id)
    search = where(is_ad, with_click, query)
    url = join(SITE, path, pc.coalesce(search, ""))
    landing_url = null_where(~web, url)

    return Sessions(
        person=person,
        start_us=start_us,
        slot=slot,
        dev_type=dev_type,
        kind=kind,
        logged_in=logged_in,
        purchase=purchase,
        identify=identify,
        new_cookie=first_of_key,
        anon_id=anon,
        device_id=device_id,
        ad_id=ad_id,
        ip=ip,
        platform=platform,
        campaign=campaign,
        ad_group=ad_group,
        click_id=click_id,
        utm_source=utm_source,
        utm_medium=utm_medium,
        utm_campaign=utm_campaign,
        referrer=referrer,
        landing_type=landing_type,
        landing_product=landing_product,
        landing_path=path,
        search=null_where(~web, search),
        landing_url=landing_url,
    )


def page_paths(vocab: Vocabulary, page_type: np.ndarray, product: np.ndarray) -> pa.Array:
    """URL paths: /products/p10023, /collections/outdoor, /cart ..."""
    base = take(pa.array([p[1] for p in PAGES]), page_type)
    product_slug = pc.utf8_lower(take(vocab.product_ids, product))
    category = take(vocab.categories, vocab.product_category[product])
    tail = where(page_type == PRODUCT, product_slug, where(page_type == CATEGORY, category, ""))
    checkout = np.asarray(page_type) == 5
    tail = where(checkout, "c1", tail)
    return join(base, tail)
