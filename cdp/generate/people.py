"""The persons of one chunk: households, names, addresses, identifiers, devices and behaviour traits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cdp.generate.arrowkit import (
    b64_matrix,
    digits_matrix,
    hcat,
    hex_matrix,
    join,
    literal,
    null_where,
    strings_from_matrix,
    take,
    uuid_string,
    where,
)
from cdp.generate.config import ChunkSpec, WorldConfig, at_least
from cdp.generate.identities import EmailRegistry, personal_local_part
from cdp.generate.keys import Kind, Stream, chunk_rng, key_hash, unique_permutation
from cdp.generate.timefmt import US_PER_DAY, US_PER_YEAR
from cdp.generate.vocab import Vocabulary

# device types
DESKTOP_WEB, MOBILE_WEB, IOS_APP, ANDROID_APP, TABLET_APP = 0, 1, 2, 3, 4
NO_DEVICE = -1
APP_TYPES = (IOS_APP, ANDROID_APP, TABLET_APP)
MAX_DEVICES = 3
NEVER = np.iinfo(np.int64).max
_PHONE_LOCAL_SPACE = 8_000_000  # exchange+line numbers 200-0000 .. 999-9999


@dataclass(frozen=True)
class People:
    seed: int
    chunk: ChunkSpec
    pid: np.ndarray
    known: np.ndarray
    household: np.ndarray
    hh_pos: np.ndarray
    hh_size: np.ndarray
    female: np.ndarray
    first: np.ndarray
    last: np.ndarray
    birth_us: np.ndarray
    addr_number: np.ndarray
    street: np.ndarray
    place: np.ndarray
    unit: np.ndarray
    mobile: np.ndarray  # 10-digit number, 0 when none
    landline: np.ndarray  # household landline, 0 when none
    email_local: pa.Array
    email_domain: pa.Array
    email: pa.Array  # primary, canonical lowercase; null for anonymous-only visitors
    work_email: pa.Array
    company: np.ndarray  # -1 when no work email
    old_email: pa.Array
    typo_email: pa.Array  # a mistyped (bouncing) form of the primary address
    shared_email: pa.Array  # household address shared with another member
    has_account: np.ndarray
    user_id: pa.Array
    acquired_us: np.ndarray
    first_seen_us: np.ndarray
    n_dev: np.ndarray
    dev_type: np.ndarray  # (n, 3)
    dev_key: np.ndarray  # (n, 3) uint64
    rot_bounds: np.ndarray  # (n, 3, 2) times a browser's anonymous id rotates
    dev_agent: np.ndarray  # (n, 3) user agent index within its device class
    tracking: np.ndarray
    kiosk_user: np.ndarray
    visit_rate: np.ndarray  # sessions per year while active
    open_prop: np.ndarray
    click_prop: np.ndarray
    subscribed: np.ndarray
    online_share: np.ndarray
    loyalty: np.ndarray
    n_cards: np.ndarray
    home_store: np.ndarray
    fav_category: np.ndarray  # (n, 2) preferred product categories
    purchase_rate: np.ndarray  # purchases per year (gamma heterogeneity)
    dropout: np.ndarray  # probability of dropping out after each purchase (beta heterogeneity)
    deletion_requested: np.ndarray

    @property
    def n(self) -> int:
        return len(self.pid)

    # ---- identifiers hashed from the person -------------------------------------------------
    def anonymous_ids(self, rows: np.ndarray, slot: np.ndarray, t_us: np.ndarray) -> pa.Array:
        """The anonymous_id the device in `slot` carried at `t_us` (browsers rotate cookies)."""
        bounds = self.rot_bounds[rows, slot]
        rotation = (t_us[:, None] >= bounds).sum(axis=1)
        key = self.dev_key[rows, slot]
        h1 = key_hash(self.seed, Kind.ANON_ID, key, rotation)
        h2 = key_hash(self.seed, Kind.ANON_ID, key, rotation, 1)
        app = np.isin(self.dev_type[rows, slot], APP_TYPES)
        return where(app, uuid_string(h1, h2, upper=True), uuid_string(h1, h2))

    def device_ids(self, rows: np.ndarray, slot: np.ndarray) -> pa.Array:
        """IDFV (iOS, upper-case UUID) or Android ID (16 hex); null on web."""
        key = self.dev_key[rows, slot]
        dtype = self.dev_type[rows, slot]
        h1 = key_hash(self.seed, Kind.DEVICE_ID, key)
        h2 = key_hash(self.seed, Kind.DEVICE_ID, key, 1)
        ids = where(dtype == ANDROID_APP, strings_from_matrix(hex_matrix(h1, 16)), uuid_string(h1, h2, upper=True))
        return null_where(~np.isin(dtype, APP_TYPES), ids)

    def advertising_ids(self, rows: np.ndarray, slot: np.ndarray) -> pa.Array:
        key = self.dev_key[rows, slot]
        dtype = self.dev_type[rows, slot]
        h1 = key_hash(self.seed, Kind.AD_ID, key)
        h2 = key_hash(self.seed, Kind.AD_ID, key, 1)
        ids = where(dtype == ANDROID_APP, uuid_string(h1, h2), uuid_string(h1, h2, upper=True))
        return null_where(~(np.isin(dtype, APP_TYPES) & self.tracking[rows]), ids)

    def loyalty_ids(self, rows: np.ndarray) -> pa.Array:
        number = unique_permutation(self.pid[rows], 9 * 10**9, self.seed, 7) + 10**9
        return strings_from_matrix(hcat(literal("LY", len(rows)), digits_matrix(number, 10)))

    def card_tokens(self, rows: np.ndarray, card: np.ndarray) -> pa.Array:
        h1 = key_hash(self.seed, Kind.CARD, self.pid[rows], card)
        h2 = key_hash(self.seed, Kind.CARD, self.pid[rows], card, 1)
        words = b64_matrix([h1, h2, h1 ^ h2], 24)
        words[words == ord("-")] = ord("x")
        words[words == ord("_")] = ord("Q")
        return strings_from_matrix(hcat(literal("tok_", len(rows)), words))

    def home_ips(self, rows: np.ndarray) -> pa.Array:
        return ip_text(key_hash(self.seed, Kind.IP, self.household[rows]))


def ip_text(h: np.ndarray) -> pa.Array:
    """IPv4 text from a hash (first octet kept in ordinary public ranges)."""
    h = np.asarray(h, dtype=np.uint64)
    firsts = np.array([24, 50, 64, 67, 68, 71, 73, 76, 98, 99, 104, 107, 108, 172, 174, 184], dtype=np.int64)
    octets = [firsts[(h & np.uint64(15)).astype(np.intp)]]
    for k in (1, 2, 3):
        octets.append(((h >> np.uint64(8 * k)) & np.uint64(255)).astype(np.int64) % 254 + 1)
    return pc.binary_join_element_wise(*[pc.cast(pa.array(o), pa.string()) for o in octets], ".")


def _household_layout(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Household start index, position in household and household size for n known persons."""
    sizes = rng.choice([1, 2, 3, 4], size=n, p=[0.45, 0.3, 0.15, 0.1])
    ends = np.cumsum(sizes)
    k = int(np.searchsorted(ends, n)) + 1
    sizes = sizes[:k]
    sizes[-1] -= ends[k - 1] - n
    starts = np.repeat(np.cumsum(sizes) - sizes, sizes)
    pos = np.arange(n) - starts
    return starts, pos, np.repeat(sizes, sizes)


def _claimed(
    registry: EmailRegistry, seed: int, mask: np.ndarray, local: pa.Array, domain: pa.Array, salt: np.ndarray
) -> pa.Array:
    """Full addresses on the rows of `mask` (unique in the run), null elsewhere."""
    rows = pa.array(np.flatnonzero(mask))
    loc = registry.claim(seed, pc.take(local, rows), pc.take(domain, rows), salt[mask])
    full = join(loc, "@", pc.take(domain, rows))
    idx = np.full(len(mask), -1, dtype=np.int64)
    idx[mask] = np.arange(int(mask.sum()))
    return pc.take(full, pa.array(idx, mask=idx < 0))


def _deletion_requests(rng: np.random.Generator, known: np.ndarray, chunk: ChunkSpec) -> np.ndarray:
    """About 0.2% of customers ask to be forgotten (a few at least in the first chunk)."""
    flags = known & (rng.random(len(known)) < 0.002)
    missing = min(at_least(0, chunk, 6) - int(flags.sum()), int((known & ~flags).sum()))
    if missing > 0:
        flags[rng.choice(np.flatnonzero(known & ~flags), missing, replace=False)] = True
    return flags


def build_people(config: WorldConfig, chunk: ChunkSpec, vocab: Vocabulary, registry: EmailRegistry) -> People:
    rng = chunk_rng(config.seed, chunk.index, Stream.PEOPLE)
    seed = config.seed
    nk, na = chunk.n_known, chunk.n_anon
    n = nk + na
    known = np.arange(n) < nk
    pid = np.concatenate(
        [
            np.arange(chunk.first_known, chunk.first_known + nk) + 1,
            config.customers + chunk.first_anon + np.arange(na) + 1,
        ]
    ).astype(np.int64)

    hh_start, hh_pos, hh_size = _household_layout(rng, nk)
    household = np.concatenate([pid[hh_start], pid[nk:]])
    hh_pos = np.concatenate([hh_pos, np.zeros(na, dtype=np.int64)])
    hh_size = np.concatenate([hh_size, np.ones(na, dtype=np.int64)])
    head = np.concatenate([hh_start, np.arange(nk, n)])

    female = rng.random(n) < 0.51
    first = np.where(
        female,
        rng.choice(len(vocab.first_p_female), n, p=vocab.first_p_female),
        rng.choice(len(vocab.first_p_male), n, p=vocab.first_p_male),
    )
    own_last = rng.choice(len(vocab.last_p), n, p=vocab.last_p)
    keeps_family_name = (hh_pos == 0) | (rng.random(n) < 0.85)
    last = np.where(keeps_family_name, own_last[head], own_last)

    age_years = np.where(hh_pos >= 2, rng.uniform(18, 30, n), rng.uniform(21, 78, n))
    birth_us = (config.end_us - (age_years * US_PER_YEAR).astype(np.int64)) // US_PER_DAY * US_PER_DAY

    addr_number = rng.integers(1, 9900, n)[head]
    street = rng.integers(0, len(vocab.streets), n)[head]
    place = rng.integers(0, len(vocab.cities), n)[head]
    unit = np.where(rng.random(n) < 0.2, rng.integers(1, 40, n), 0)[head]

    phone_space = len(vocab.area_codes) * _PHONE_LOCAL_SPACE
    v = unique_permutation(pid, phone_space, seed, 1)
    mobile_number = vocab.area_codes[v // _PHONE_LOCAL_SPACE] * 10**7 + 2_000_000 + v % _PHONE_LOCAL_SPACE
    mobile = np.where(known & (rng.random(n) < 0.92), mobile_number, 0)
    w = unique_permutation(phone_space - 1 - household, phone_space, seed, 1)
    landline_number = vocab.area_codes[w // _PHONE_LOCAL_SPACE] * 10**7 + 2_000_000 + w % _PHONE_LOCAL_SPACE
    landline = np.where(known & (rng.random(n) < 0.25)[head], landline_number, 0)

    # emails
    first_low = take(vocab.first_lower, first)
    last_low = take(vocab.last_lower, last)
    birth_year = (birth_us // US_PER_YEAR) + 1970
    local = personal_local_part(rng, first_low, last_low, birth_year)
    domain = take(vocab.email_domains, rng.choice(len(vocab.email_domain_p), n, p=vocab.email_domain_p))
    local = pa.concat_arrays(
        [registry.claim(seed, local.slice(0, nk), domain.slice(0, nk), pid[:nk]), pa.nulls(na, pa.string())]
    )
    email = join(local, "@", domain)

    has_work = known & (rng.random(n) < 0.15)
    company = np.where(has_work, rng.integers(0, config.n_companies, n), -1)
    work_email = _claimed(
        registry,
        seed,
        has_work,
        join(first_low, ".", last_low),
        take(vocab.company_domains, np.maximum(company, 0)),
        pid + 10**12,
    )
    has_old = known & (rng.random(n) < 0.10)
    old_email = _claimed(
        registry,
        seed,
        has_old,
        personal_local_part(rng, first_low, last_low, birth_year),
        take(vocab.email_domains, rng.choice([1, 2, 5, 6, 7], n)),
        pid + 2 * 10**12,
    )
    domain_idx = pc.index_in(domain, value_set=vocab.email_domains).to_numpy(zero_copy_only=False)
    typo_email = null_where(~known, join(local, "@", take(vocab.typo_domains, domain_idx)))

    # a household address two members share (on orders and receipts)
    second = np.minimum(head + 1, n - 1)
    sharing_head = known & (hh_pos == 0) & (hh_size >= 2) & (rng.random(n) < 0.12)
    family_words = pa.array(["family", "home", "house", "fam"])
    family = _claimed(
        registry,
        seed,
        sharing_head,
        join(take(vocab.last_lower, last), take(family_words, rng.integers(0, 4, n))),
        take(vocab.email_domains, rng.choice([0, 1, 4], n)),
        household + 3 * 10**12,
    )
    shared_email = null_where(~(sharing_head[head] & (hh_pos <= 1)), pc.take(family, pa.array(head)))

    has_account = known & (rng.random(n) < 0.6)
    uid_hash = key_hash(seed, Kind.USER_ID, pid)
    user_id = null_where(~has_account, join("usr_", strings_from_matrix(hex_matrix(uid_hash, 16))))

    period = config.end_us - config.start_us
    pre_window = rng.random(n) < 0.2
    acquired_us = np.where(
        pre_window,
        config.start_us - (rng.random(n) * US_PER_YEAR).astype(np.int64),
        config.start_us + (rng.random(n) * (period - 3 * US_PER_DAY)).astype(np.int64),
    )
    first_seen_us = acquired_us - (rng.exponential(10, n) * US_PER_DAY).astype(np.int64)

    # devices
    n_dev = np.where(has_account, rng.choice([1, 2, 3], n, p=[0.4, 0.4, 0.2]), rng.choice([1, 2], n, p=[0.7, 0.3]))
    n_dev = np.where(known, n_dev, 1)
    dev_type = np.full((n, MAX_DEVICES), NO_DEVICE, dtype=np.int8)
    dev_type[:, 0] = np.where(rng.random(n) < 0.55, DESKTOP_WEB, MOBILE_WEB)
    app1 = np.where(rng.random(n) < 0.55, IOS_APP, ANDROID_APP)
    dev_type[:, 1] = np.where(n_dev >= 2, np.where(has_account, app1, MOBILE_WEB), NO_DEVICE)
    dev_type[:, 1] = np.where((n_dev >= 2) & ~has_account & (dev_type[:, 0] == MOBILE_WEB), DESKTOP_WEB, dev_type[:, 1])
    dev_type[:, 2] = np.where(n_dev >= 3, np.where(rng.random(n) < 0.5, TABLET_APP, DESKTOP_WEB), NO_DEVICE)
    dev_key = (pid[:, None].astype(np.uint64) * np.uint64(4) + np.arange(MAX_DEVICES, dtype=np.uint64)[None, :]).copy()

    # a shared household tablet: the first two members, both account holders, each log in on it
    both_accounts = (hh_size >= 2) & has_account & has_account[second] & (hh_pos == 0)
    tablet_hh = both_accounts & (rng.random(n) < 0.25)
    first_two = tablet_hh[head] & (hh_pos <= 1) & known
    n_dev = np.where(first_two, 3, n_dev)
    dev_type[first_two, 2] = TABLET_APP
    dev_type[first_two, 1] = np.where(dev_type[first_two, 1] == NO_DEVICE, app1[first_two], dev_type[first_two, 1])
    dev_key[first_two, 2] = key_hash(seed, Kind.HH_TABLET, household[first_two])

    rot_count = rng.choice([1, 2, 3], (n, MAX_DEVICES), p=[0.55, 0.3, 0.15])
    web = (dev_type == DESKTOP_WEB) | (dev_type == MOBILE_WEB)
    span = (config.end_us - first_seen_us).astype(np.float64)
    bounds = first_seen_us[:, None, None] + (rng.random((n, MAX_DEVICES, 2)) * span[:, None, None]).astype(np.int64)
    bounds.sort(axis=2)
    use = web[:, :, None] & (np.arange(2)[None, None, :] < (rot_count[:, :, None] - 1))
    rot_bounds = np.where(use, bounds, NEVER)
    dev_agent = rng.integers(0, 64, (n, MAX_DEVICES))

    kiosk_user = has_account & (rng.random(n) < 0.04)
    short = min(at_least(0, chunk, 25) - int(kiosk_user.sum()), int((has_account & ~kiosk_user).sum()))
    if short > 0:
        kiosk_user[rng.choice(np.flatnonzero(has_account & ~kiosk_user), short, replace=False)] = True

    visit_rate = rng.gamma(1.3, 1.7, n) * np.where(has_account, 1.2, 0.7)
    visit_rate = np.where(known, visit_rate, rng.gamma(1.0, 1.0, n))
    purchase_rate = np.minimum(rng.gamma(1.0, 4.5, n), 30.0)
    dropout = rng.beta(1.3, 9.0, n)

    return People(
        seed=seed,
        chunk=chunk,
        pid=pid,
        known=known,
        household=household,
        hh_pos=hh_pos,
        hh_size=hh_size,
        female=female,
        first=first,
        last=last,
        birth_us=birth_us,
        addr_number=addr_number,
        street=street,
        place=place,
        unit=unit,
        mobile=mobile,
        landline=landline,
        email_local=local,
        email_domain=domain,
        email=email,
        work_email=work_email,
        company=company,
        old_email=old_email,
        typo_email=typo_email,
        shared_email=shared_email,
        has_account=has_account,
        user_id=user_id,
        acquired_us=acquired_us,
        first_seen_us=first_seen_us,
        n_dev=n_dev,
        dev_type=dev_type,
        dev_key=dev_key,
        rot_bounds=rot_bounds,
        dev_agent=dev_agent,
        tracking=rng.random(n) < 0.35,
        kiosk_user=kiosk_user,
        visit_rate=visit_rate,
        open_prop=rng.beta(2.0, 5.0, n),
        click_prop=rng.beta(1.5, 8.0, n),
        subscribed=known & (rng.random(n) < 0.45),
        online_share=rng.beta(0.6, 0.6, n),
        loyalty=known & (rng.random(n) < 0.5),
        n_cards=rng.choice([1, 2], n, p=[0.7, 0.3]),
        home_store=rng.integers(0, len(vocab.store_ids), n),
        fav_category=rng.integers(0, len(vocab.categories), (n, 2)),
        purchase_rate=np.where(known, purchase_rate, 0.0),
        dropout=dropout,
        deletion_requested=_deletion_requests(rng, known, chunk),
    )
