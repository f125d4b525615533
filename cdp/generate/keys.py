"""Deterministic hashing and id spaces: every identifier is a pure function of (seed, kind, parts).

Random streams are seeded per (seed, chunk, stream); identifiers that several modules must agree
on (a person's anonymous ids, device ids, user id) are hashed from the person instead, so no
module has to hand arrays to another just to name the same thing.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


class Stream(IntEnum):
    """Independent random streams of one chunk, so modules do not shift each other's draws."""

    PEOPLE = 1
    BEHAVIOUR = 2
    WEB = 3
    COMMERCE = 4
    EMAIL = 5
    ADS = 6
    CRM = 7
    SUPPORT = 8
    CONSENT = 9
    BAD_ROWS = 10
    GLOBAL = 11
    TRUTH = 12


class Kind(IntEnum):
    """Namespaces of hashed identifiers."""

    ANON_ID = 1
    DEVICE_ID = 2
    AD_ID = 3
    USER_ID = 4
    MESSAGE_ID = 5
    MESSAGE_ID_2 = 6
    HH_TABLET = 7
    LOYALTY = 8
    CARD = 9
    CLICK = 10
    CLICK_2 = 11
    EVENT_ID = 12
    EVENT_ID_2 = 13
    KIOSK = 14
    IP = 15
    SEQ = 16
    REQUEST = 17


class IdSpace(IntEnum):
    """Tables whose numeric ids come from seq_ids."""

    SHOP_ORDER = 1
    SHOP_ORDER_LINE = 2
    SHOP_CUSTOMER = 3
    POS_TRANSACTION = 4
    TICKET = 5
    CRM_CONTACT = 6
    CRM_DEAL = 7
    CRM_COMPANY = 8
    REQUESTER = 9
    CONSENT = 10
    DELETION = 11
    CONVERSION = 12


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a bijective, well-mixed map of uint64 values."""
    z = np.array(x, dtype=np.uint64, copy=True, ndmin=1)
    with np.errstate(over="ignore"):
        z += _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        z ^= z >> np.uint64(31)
    return z


def key_hash(seed: int, kind: Kind, *parts: np.ndarray | int) -> np.ndarray:
    """uint64 hash of (seed, kind, parts...); parts broadcast against each other."""
    h = mix64(np.uint64(seed & 0xFFFFFFFFFFFFFFFF) ^ (np.uint64(int(kind)) << np.uint64(56)))
    for part in parts:
        p = np.asarray(part).astype(np.int64).astype(np.uint64)
        h = mix64(h ^ p)
    return h


def chunk_rng(seed: int, chunk: int, stream: Stream) -> np.random.Generator:
    return np.random.default_rng([seed, chunk, int(stream)])


_SEQ_BITS = 40
_SEQ_MASK = (1 << _SEQ_BITS) - 1


def seq_ids(seed: int, table: int, chunk: int, local: np.ndarray, base: int = 10**11) -> np.ndarray:
    """Unique, random-looking int64 ids for rows `local` (0.. < 2**24) of a chunk of one id space.

    (chunk, local) is packed into 40 bits and sent through an odd-multiplier affine map modulo
    2**40, which is a bijection, so ids never collide within a table.
    """
    local = np.asarray(local, dtype=np.int64)
    if len(local) and local.max() >= 1 << 24:
        raise ValueError(f"seq_ids: chunk {chunk} needs more than 2**24 ids in id space {table}")
    x = (np.int64(chunk) << np.int64(24)) | local
    mult = int(key_hash(seed, Kind.SEQ, table)[0]) | 1
    add = int(key_hash(seed, Kind.SEQ, table, 1)[0])
    with np.errstate(over="ignore"):
        y = (x.astype(np.uint64) * np.uint64(mult & _SEQ_MASK) + np.uint64(add & _SEQ_MASK)) & np.uint64(_SEQ_MASK)
    return y.astype(np.int64) + np.int64(base)


def unique_permutation(values: np.ndarray, space: int, seed: int, tag: int) -> np.ndarray:
    """A bijection of [0, space) evaluated at `values` (affine map with a multiplier coprime to space)."""
    rng = np.random.default_rng([seed, 9_999, tag])
    while True:
        mult = int(rng.integers(space // 3, space - 1))
        if np.gcd(mult, space) == 1:
            break
    add = int(rng.integers(0, space))
    v = np.asarray(values, dtype=np.int64) % space
    # (mult * v) can overflow int64 for big spaces; split the product.
    hi, lo = v >> 20, v & ((1 << 20) - 1)
    return ((((mult * hi) % space) << 20) % space + mult * lo + add) % space
