"""Vocabulary pools built once per run: names, places, domains, products, stores, campaigns.

Faker (seeded) is used here only, to draw pools; rows then pick from the pools by index.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from faker import Faker
from faker.providers.person.en_US import Provider as PersonProvider

from cdp.generate.timefmt import US_PER_DAY, date_us

# formal first name -> nickname used in CRM and support entries
NICKNAMES: dict[str, str] = {
    "Robert": "Bob",
    "William": "Bill",
    "Elizabeth": "Liz",
    "Katherine": "Kate",
    "Michael": "Mike",
    "Richard": "Rick",
    "James": "Jim",
    "John": "Jack",
    "Joseph": "Joe",
    "Thomas": "Tom",
    "Charles": "Chuck",
    "Christopher": "Chris",
    "Daniel": "Dan",
    "Matthew": "Matt",
    "Anthony": "Tony",
    "Donald": "Don",
    "Steven": "Steve",
    "Andrew": "Andy",
    "Joshua": "Josh",
    "Kenneth": "Ken",
    "Kevin": "Kev",
    "Timothy": "Tim",
    "Ronald": "Ron",
    "Edward": "Ed",
    "Jeffrey": "Jeff",
    "Nicholas": "Nick",
    "Jonathan": "Jon",
    "Benjamin": "Ben",
    "Samuel": "Sam",
    "Gregory": "Greg",
    "Alexander": "Alex",
    "Patrick": "Pat",
    "Raymond": "Ray",
    "Jennifer": "Jen",
    "Jessica": "Jess",
    "Patricia": "Pat",
    "Margaret": "Peggy",
    "Susan": "Sue",
    "Deborah": "Debbie",
    "Rebecca": "Becky",
    "Victoria": "Vicky",
    "Samantha": "Sam",
    "Christina": "Tina",
    "Kimberly": "Kim",
    "Cynthia": "Cindy",
    "Pamela": "Pam",
    "Stephanie": "Steph",
    "Catherine": "Cathy",
    "Jacqueline": "Jackie",
    "Abigail": "Abby",
    "Theresa": "Terry",
    "Barbara": "Barb",
    "Dorothy": "Dot",
    "Frances": "Fran",
    "Kathleen": "Kathy",
    "Nathaniel": "Nate",
    "Zachary": "Zach",
    "Frederick": "Fred",
    "Gerald": "Jerry",
    "Lawrence": "Larry",
}

EMAIL_DOMAINS: list[tuple[str, float]] = [
    ("gmail.com", 0.44),
    ("yahoo.com", 0.14),
    ("hotmail.com", 0.09),
    ("outlook.com", 0.09),
    ("icloud.com", 0.08),
    ("aol.com", 0.05),
    ("comcast.net", 0.04),
    ("att.net", 0.03),
    ("protonmail.com", 0.02),
    ("me.com", 0.02),
]
# injective domain typo map: typo'd addresses never equal a real one
DOMAIN_TYPOS: dict[str, str] = {
    "gmail.com": "gmial.com",
    "yahoo.com": "yaho.com",
    "hotmail.com": "hotmial.com",
    "outlook.com": "outlok.com",
    "icloud.com": "iclod.com",
    "aol.com": "aol.co",
    "comcast.net": "comcast.nte",
    "att.net": "att.nte",
    "protonmail.com": "protonmial.com",
    "me.com": "me.cm",
}

CATEGORIES = [
    "apparel",
    "footwear",
    "outdoor",
    "home",
    "kitchen",
    "beauty",
    "electronics",
    "toys",
    "books",
    "sports",
]
_CATEGORY_NOUNS = {
    "apparel": ["T-Shirt", "Hoodie", "Jacket", "Jeans", "Sweater", "Dress", "Shorts"],
    "footwear": ["Sneakers", "Boots", "Sandals", "Loafers", "Running Shoes", "Slippers"],
    "outdoor": ["Tent", "Backpack", "Sleeping Bag", "Headlamp", "Camp Chair", "Water Filter"],
    "home": ["Throw Blanket", "Lamp", "Candle", "Cushion", "Rug", "Wall Clock"],
    "kitchen": ["Skillet", "Knife Set", "Coffee Grinder", "Mixing Bowls", "Cutting Board", "Kettle"],
    "beauty": ["Face Serum", "Moisturizer", "Shampoo", "Lip Balm", "Sunscreen", "Body Wash"],
    "electronics": ["Earbuds", "Charger", "Speaker", "Power Bank", "Smart Plug", "Webcam"],
    "toys": ["Puzzle", "Building Set", "Plush Bear", "Board Game", "Kite", "Train Set"],
    "books": ["Cookbook", "Novel", "Travel Guide", "Notebook", "Atlas", "Field Guide"],
    "sports": ["Yoga Mat", "Dumbbells", "Tennis Racket", "Jump Rope", "Water Bottle", "Bike Helmet"],
}
_ADJECTIVES = [
    "Classic",
    "Everyday",
    "Premium",
    "Compact",
    "Organic",
    "Ultralight",
    "Vintage",
    "Pro",
    "Essential",
]
_CATEGORY_PRICE = {  # median unit price in dollars
    "apparel": 35,
    "footwear": 80,
    "outdoor": 90,
    "home": 40,
    "kitchen": 45,
    "beauty": 22,
    "electronics": 70,
    "toys": 28,
    "books": 18,
    "sports": 38,
}

DESKTOP_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"
    " Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/127.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36",
]
MOBILE_AGENTS = [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)"
    " Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)"
    " Version/18.0 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/126.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/124.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; SM-A546E) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/128.0.0.0 Mobile Safari/537.36",
]
MAIL_AGENTS = [
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)",
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17029; Pro)",
    "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36",
    "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html",
]
APP_VERSIONS = ["5.12.0", "5.13.1", "5.14.0", "6.0.2", "6.1.0", "6.2.3"]

# (page name, path template, title); product pages get a product id appended
PAGES: list[tuple[str, str, str]] = [
    ("Home", "/", "Shop Example | Home"),
    ("Category", "/collections/", "Shop Example | Collection"),
    ("Product", "/products/", "Shop Example | Product"),
    ("Search", "/search", "Shop Example | Search"),
    ("Cart", "/cart", "Shop Example | Cart"),
    ("Checkout", "/checkouts/", "Shop Example | Checkout"),
    ("Account", "/account", "Shop Example | My account"),
    ("Blog", "/blogs/news", "Shop Example | Journal"),
]
SCREENS = [
    "Home",
    "Category",
    "Product Detail",
    "Search",
    "Cart",
    "Checkout",
    "Account",
    "Order Confirmation",
]
SITE = "https://www.shop-example.com"

INDUSTRIES = [
    "COMPUTER_SOFTWARE",
    "RETAIL",
    "HOSPITAL_HEALTH_CARE",
    "FINANCIAL_SERVICES",
    "CONSTRUCTION",
    "EDUCATION_MANAGEMENT",
    "MARKETING_AND_ADVERTISING",
    "REAL_ESTATE",
    "RESTAURANTS",
    "LOGISTICS_AND_SUPPLY_CHAIN",
]

JUNK_NAMES = ["null", "N/A", "none", "unknown", "test", "-"]
JUNK_EMAILS = ["null", "N/A", "none", "unknown", "noemail@noemail.com", "test@test.com"]
JUNK_PHONES = ["0000000000", "555-555-5555", "null", "N/A", "none", "unknown", "1111111111"]


@dataclass(frozen=True)
class Vocabulary:
    first_names: pa.Array
    first_lower: pa.Array  # lowercase letters only, for email local parts
    first_female: np.ndarray
    first_p_male: np.ndarray
    first_p_female: np.ndarray
    nickname_of: np.ndarray  # index into nicknames, -1 when the name has none
    nicknames: pa.Array
    last_names: pa.Array
    last_lower: pa.Array
    last_p: np.ndarray
    streets: pa.Array
    cities: pa.Array
    states: pa.Array
    zips: pa.Array
    area_codes: np.ndarray
    email_domains: pa.Array
    email_domain_p: np.ndarray
    typo_domains: pa.Array
    company_names: pa.Array
    company_domains: pa.Array
    company_industry: np.ndarray
    company_city: np.ndarray
    industries: pa.Array
    product_ids: pa.Array
    product_skus: pa.Array
    product_titles: pa.Array
    product_category: np.ndarray
    product_price_cents: np.ndarray
    categories: pa.Array
    store_ids: pa.Array
    store_names: pa.Array
    store_city: np.ndarray
    store_opened_us: np.ndarray
    ad_campaign_ids: pa.Array
    ad_campaign_names: pa.Array
    ad_campaign_slugs: pa.Array
    ad_campaign_platform: np.ndarray  # 0 google_ads, 1 meta_ads
    ad_group_ids: pa.Array  # 3 per campaign: campaign c -> 3c..3c+2
    email_campaign_ids: pa.Array
    email_campaign_names: pa.Array
    email_campaign_us: np.ndarray
    desktop_agents: pa.Array
    mobile_agents: pa.Array
    mail_agents: pa.Array
    app_versions: pa.Array


def _letters(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.lower())


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def build_vocabulary(seed: int, start_us: int, end_us: int, n_companies: int) -> Vocabulary:
    fake = Faker("en_US")
    fake.seed_instance(seed)
    rng = np.random.default_rng([seed, 424242])

    male = dict(PersonProvider.first_names_male)
    female = dict(PersonProvider.first_names_female)
    names = list(male) + list(female)
    female_flag = np.array([False] * len(male) + [True] * len(female))
    w_male = np.array(list(male.values()) + [0.0] * len(female))
    w_female = np.array([0.0] * len(male) + list(female.values()))
    nick_list = sorted(set(NICKNAMES.values()))
    nickname_of = np.array([nick_list.index(NICKNAMES[n]) if n in NICKNAMES else -1 for n in names])
    lasts = dict(PersonProvider.last_names)
    last_names = list(lasts)
    last_p = np.array(list(lasts.values()))

    streets = sorted({fake.street_name() for _ in range(900)})
    places = []
    for _ in range(1500):
        state = fake.state_abbr(include_territories=False, include_freely_associated_states=False)
        places.append((fake.city(), state, fake.zipcode_in_state(state)))
    area_pool = [a for a in range(201, 990) if a % 100 != 11 and a // 10 % 10 != 9 and a != 555]
    area_codes = np.array(sorted(rng.choice(area_pool, size=280, replace=False)), dtype=np.int64)

    company_pool = sorted({fake.company() for _ in range(3000)})
    comp_idx = rng.integers(0, len(company_pool), n_companies)
    seen: dict[str, int] = {}
    comp_names, comp_domains = [], []
    for i in comp_idx:  # once per run over the company list (tens of thousands at most)
        base = company_pool[i]
        k = seen.get(base, 0)
        seen[base] = k + 1
        comp_names.append(base if k == 0 else f"{base} {k + 1}")
        slug = _slug(base).replace("-", "")
        comp_domains.append(f"{slug}{'' if k == 0 else k + 1}.{['com', 'io', 'co', 'net'][int(i) % 4]}")

    n_products = 300
    cat_of = np.arange(n_products) % len(CATEGORIES)
    titles, prices = [], []
    for p in range(n_products):
        cat = CATEGORIES[cat_of[p]]
        noun = _CATEGORY_NOUNS[cat][(p // len(CATEGORIES)) % len(_CATEGORY_NOUNS[cat])]
        adj = _ADJECTIVES[(p // (len(CATEGORIES) * 6)) % len(_ADJECTIVES)]
        titles.append(f"{adj} {noun} {fake.color_name()}")
        prices.append(round(_CATEGORY_PRICE[cat] * float(rng.lognormal(0, 0.45)) * 2) * 50 - 1)

    n_stores = 30
    store_city = rng.choice(len(places), n_stores, replace=False)
    store_names = [f"Shop Example {places[c][0]}" for c in store_city]
    opened = [date_us(dt.date(2012, 1, 1)) + int(d) * US_PER_DAY for d in rng.integers(0, 4000, n_stores)]

    google = [f"{rng.integers(10**9, 10**10)}" for _ in range(10)]
    meta = [f"238{rng.integers(10**14, 10**15)}" for _ in range(10)]
    themes = [
        "brand",
        "prospecting",
        "retargeting",
        "spring_sale",
        "summer_sale",
        "back_to_school",
        "black_friday",
        "holiday",
        "new_arrivals",
        "loyalty",
    ]
    ad_slugs = [f"{t}_{p}" for p in ("search", "social") for t in themes]
    ad_names = [s.replace("_", " ").title() for s in ad_slugs]
    ad_groups = [f"{cid}{k}" for cid in google + meta for k in range(3)]

    week = 7 * US_PER_DAY
    email_us = np.arange(start_us - 30 * US_PER_DAY, end_us, week // 2, dtype=np.int64) + 15 * 3_600_000_000
    email_ids = [f"cmp_{i:05d}" for i in range(len(email_us))]
    email_names = []
    kinds = [
        "Weekly Newsletter",
        "New Arrivals",
        "Flash Sale",
        "Members Only",
        "Style Guide",
        "Restock Alert",
    ]
    for i, us in enumerate(email_us):
        day = dt.date(1970, 1, 1) + dt.timedelta(days=int(us // US_PER_DAY))
        email_names.append(f"{kinds[i % len(kinds)]} {day.isoformat()}")

    return Vocabulary(
        first_names=pa.array(names),
        first_lower=pa.array([_letters(n) for n in names]),
        first_female=female_flag,
        first_p_male=w_male / w_male.sum(),
        first_p_female=w_female / w_female.sum(),
        nickname_of=nickname_of,
        nicknames=pa.array(nick_list),
        last_names=pa.array(last_names),
        last_lower=pa.array([_letters(n) for n in last_names]),
        last_p=last_p / last_p.sum(),
        streets=pa.array(streets),
        cities=pa.array([p[0] for p in places]),
        states=pa.array([p[1] for p in places]),
        zips=pa.array([p[2] for p in places]),
        area_codes=area_codes,
        email_domains=pa.array([d for d, _ in EMAIL_DOMAINS]),
        email_domain_p=np.array([w for _, w in EMAIL_DOMAINS]) / sum(w for _, w in EMAIL_DOMAINS),
        typo_domains=pa.array([DOMAIN_TYPOS[d] for d, _ in EMAIL_DOMAINS]),
        company_names=pa.array(comp_names),
        company_domains=pa.array(comp_domains),
        company_industry=rng.integers(0, len(INDUSTRIES), n_companies),
        company_city=rng.integers(0, len(places), n_companies),
        industries=pa.array(INDUSTRIES),
        product_ids=pa.array([f"P{10000 + p}" for p in range(n_products)]),
        product_skus=pa.array([f"SKU-{CATEGORIES[cat_of[p]][:3].upper()}-{4000 + p}" for p in range(n_products)]),
        product_titles=pa.array(titles),
        product_category=cat_of,
        product_price_cents=np.array(prices, dtype=np.int64),
        categories=pa.array(CATEGORIES),
        store_ids=pa.array([f"S{101 + s:03d}" for s in range(n_stores)]),
        store_names=pa.array(store_names),
        store_city=store_city,
        store_opened_us=np.array(opened, dtype=np.int64),
        ad_campaign_ids=pa.array(google + meta),
        ad_campaign_names=pa.array(ad_names),
        ad_campaign_slugs=pa.array(ad_slugs),
        ad_campaign_platform=np.array([0] * 10 + [1] * 10),
        ad_group_ids=pa.array(ad_groups),
        email_campaign_ids=pa.array(email_ids),
        email_campaign_names=pa.array(email_names),
        email_campaign_us=email_us,
        desktop_agents=pa.array(DESKTOP_AGENTS),
        mobile_agents=pa.array(MOBILE_AGENTS),
        mail_agents=pa.array(MAIL_AGENTS),
        app_versions=pa.array(APP_VERSIONS),
    )
