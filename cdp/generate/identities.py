"""Email addresses and phone numbers: canonical values, uniqueness, and the ways people write them."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cdp.generate.arrowkit import (
    by_group,
    dense,
    digits_matrix,
    hcat,
    join,
    literal,
    strings_from_matrix,
    where,
)
from cdp.generate.keys import Kind, key_hash

GMAIL_DOMAINS = ["gmail.com", "googlemail.com"]


class EmailRegistry:
    """Canonical addresses handed out so far in this run, so no two persons get the same one."""

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def claim(self, seed: int, local: pa.Array, domain: pa.Array, salt: np.ndarray) -> pa.Array:
        """Return `local` parts made unique (digits appended where a clash exists) and register them."""
        local = dense(local)
        domain = dense(domain)
        n = len(local)
        gmail = pc.is_in(domain, value_set=pa.array(GMAIL_DOMAINS))
        for attempt in range(12):
            # one mailbox per person: Gmail ignores dots in the local part, so j.smith@gmail.com
            # and jsmith@gmail.com are the same address and may not go to two people
            full = join(pc.if_else(gmail, pc.replace_substring(local, ".", ""), local), "@",
                        pc.if_else(gmail, pa.scalar("gmail.com"), domain))
            values = full.to_pylist()
            clash_global = self._taken.intersection(values)
            idx = pa.array(np.arange(n, dtype=np.int64))
            firsts = pa.table({"e": full, "i": idx}).group_by("e").aggregate([("i", "min")])
            is_first = np.zeros(n, dtype=bool)
            is_first[firsts.column("i_min").to_numpy()] = True
            bad = ~is_first
            if clash_global:
                bad |= pc.is_in(full, value_set=pa.array(sorted(clash_global))).to_numpy(zero_copy_only=False)
            if not bad.any():
                self._taken.update(values)
                return local
            extra = (key_hash(seed, Kind.SEQ, salt, 100 + attempt) % np.uint64(90 if attempt < 3 else 9000)).astype(
                np.int64
            ) + (10 if attempt < 3 else 1000)
            local = where(bad, join(local, pc.cast(pa.array(extra), pa.string())), local)
        raise RuntimeError("EmailRegistry: could not make email addresses unique after 12 attempts")


def personal_local_part(rng: np.random.Generator, first: pa.Array, last: pa.Array, birth_year: np.ndarray) -> pa.Array:
    """Local parts from name patterns: john.smith, johnsmith, jsmith, john_smith, johns, smith.john, ..."""
    n = len(first)
    pattern = rng.choice(8, n, p=[0.24, 0.16, 0.16, 0.07, 0.07, 0.05, 0.15, 0.10])
    initial = pc.utf8_slice_codeunits(first, 0, 1)
    last_initial = pc.utf8_slice_codeunits(last, 0, 1)
    yy = pc.cast(pa.array(birth_year % 100), pa.string())
    yy = pc.utf8_lpad(yy, 2, "0")
    num = pc.cast(pa.array(rng.integers(1, 999, n)), pa.string())

    def build(g: int, rows: np.ndarray) -> pa.Array:
        f, la, i, li = (pc.take(a, pa.array(rows)) for a in (first, last, initial, last_initial))
        if g == 0:
            return join(f, ".", la)
        if g == 1:
            return join(f, la)
        if g == 2:
            return join(i, la)
        if g == 3:
            return join(f, "_", la)
        if g == 4:
            return join(f, li)
        if g == 5:
            return join(la, ".", f)
        if g == 6:
            return join(f, pc.take(yy, pa.array(rows)))
        return join(f, ".", la, pc.take(num, pa.array(rows)))

    return by_group(pattern, 8, build)


def email_as_typed(
    rng: np.random.Generator,
    local: pa.Array,
    domain: pa.Array,
    upper: float = 0.03,
    mixed: float = 0.05,
    spaces: float = 0.02,
    gmail_dots: float = 0.15,
    plus_tag: float = 0.0,
) -> pa.Array:
    """The canonical address as someone writes it into a form: case, spaces, gmail dots, plus tags."""
    local, domain = dense(local), dense(domain)
    n = len(local)
    gmail = pc.equal(domain, "gmail.com").to_numpy(zero_copy_only=False)
    has_dot = pc.match_substring(local, ".").to_numpy(zero_copy_only=False)
    u = rng.random((n, 5))
    dotted = gmail & (u[:, 0] < gmail_dots)
    undotted = pc.replace_substring(local, ".", "")
    inserted = join(pc.utf8_slice_codeunits(local, 0, 1), ".", pc.utf8_slice_codeunits(local, 1, 64))
    loc = where(dotted & has_dot, undotted, local)
    loc = where(dotted & ~has_dot, inserted, loc)
    tags = pa.array(["shop", "news", "promo", "store", "deals"])
    tag = pc.take(tags, pa.array(rng.integers(0, len(tags), n)))
    loc = where(u[:, 1] < plus_tag, join(loc, "+", tag), loc)
    address = join(loc, "@", domain)
    address = where(u[:, 2] < upper, pc.utf8_upper(address), address)
    mixed_rows = (u[:, 2] >= upper) & (u[:, 2] < upper + mixed)
    address = where(mixed_rows, join(pc.utf8_capitalize(loc), "@", pc.utf8_capitalize(domain)), address)
    address = where(u[:, 3] < spaces / 2, join(" ", address), address)
    return where((u[:, 3] >= spaces / 2) & (u[:, 3] < spaces), join(address, " "), address)


def split_email(full: pa.Array) -> tuple[pa.Array, pa.Array]:
    """(local part, domain) of canonical addresses; nulls stay null."""
    parts = pc.split_pattern(dense(full), "@", max_splits=1)
    return pc.list_element(parts, 0), pc.list_element(parts, 1)


def address_as_typed(rng: np.random.Generator, full: pa.Array, **rates: float) -> pa.Array:
    """email_as_typed for full canonical addresses (nulls stay null)."""
    local, domain = split_email(full)
    return email_as_typed(rng, local, domain, **rates)


PHONE_FORMATS = (
    7  # (415) 555-0134, 415-555-0134, +1 415 555 0134, 4155550134, 1-415-555-0134, 415.555.0134, +14155550134
)


def phone_text(numbers: np.ndarray, formats: np.ndarray) -> pa.Array:
    """10-digit US numbers written in one of PHONE_FORMATS formats per row."""
    numbers = np.asarray(numbers, dtype=np.int64)

    def build(g: int, rows: np.ndarray) -> pa.Array:
        d = digits_matrix(numbers[rows], 10)
        a, b, c = d[:, 0:3], d[:, 3:6], d[:, 6:10]
        m = len(rows)
        lit = lambda s: literal(s, m)  # noqa: E731
        if g == 0:
            mat = hcat(lit("("), a, lit(") "), b, lit("-"), c)
        elif g == 1:
            mat = hcat(a, lit("-"), b, lit("-"), c)
        elif g == 2:
            mat = hcat(lit("+1 "), a, lit(" "), b, lit(" "), c)
        elif g == 3:
            mat = d
        elif g == 4:
            mat = hcat(lit("1-"), a, lit("-"), b, lit("-"), c)
        elif g == 5:
            mat = hcat(a, lit("."), b, lit("."), c)
        else:
            mat = hcat(lit("+1"), d)
        return strings_from_matrix(mat)

    return by_group(np.asarray(formats), PHONE_FORMATS, build)


def e164(numbers: np.ndarray) -> pa.Array:
    return phone_text(numbers, np.full(len(numbers), 6))


def random_phone_formats(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.choice(PHONE_FORMATS, n, p=[0.28, 0.24, 0.08, 0.18, 0.05, 0.07, 0.10])
