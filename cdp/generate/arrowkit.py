"""Vectorised builders of Arrow columns: strings from byte matrices, hex ids, digits, money.

Everything here works on whole numpy arrays at once; no function loops over rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

TS_TYPE = pa.timestamp("us", tz="UTC")
MONEY_TYPE = pa.decimal128(12, 2)

_HEX_LOWER = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_HEX_UPPER = np.frombuffer(b"0123456789ABCDEF", dtype=np.uint8)
_B64URL = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", dtype=np.uint8)
_ALNUM_UPPER = np.frombuffer(b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789", dtype=np.uint8)


def strings_from_matrix(mat: np.ndarray) -> pa.Array:
    """One string per row of a (n, width) uint8 matrix of ASCII bytes."""
    mat = np.ascontiguousarray(mat, dtype=np.uint8)
    n, width = mat.shape
    if n * width >= 2**31:
        raise ValueError(f"strings_from_matrix: {n} rows x {width} bytes exceed one Arrow string array")
    offsets = np.arange(n + 1, dtype=np.int32) * np.int32(width)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(mat)])


def literal(text: str, n: int) -> np.ndarray:
    """A (n, len(text)) byte matrix repeating `text` on every row."""
    row = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    return np.broadcast_to(row, (n, len(row)))


def hcat(*parts: np.ndarray) -> np.ndarray:
    return np.concatenate(parts, axis=1)


def hex_matrix(h: np.ndarray, width: int, upper: bool = False) -> np.ndarray:
    """The low `width` hex digits (width <= 16) of uint64 values, most significant first."""
    h = np.asarray(h, dtype=np.uint64)
    shifts = (np.arange(width - 1, -1, -1, dtype=np.uint64) * np.uint64(4))[None, :]
    nibbles = ((h[:, None] >> shifts) & np.uint64(15)).astype(np.intp)
    return (_HEX_UPPER if upper else _HEX_LOWER)[nibbles]


def hex_string(h: np.ndarray, width: int = 16, upper: bool = False) -> pa.Array:
    return strings_from_matrix(hex_matrix(h, width, upper))


def uuid_matrix(h1: np.ndarray, h2: np.ndarray, upper: bool = False) -> np.ndarray:
    """RFC 4122 version-4 shaped UUID text (36 bytes per row) from two uint64 hashes."""
    n = len(h1)
    a = hex_matrix(h1, 16, upper)
    b = hex_matrix(h2, 16, upper)
    b[:, 0] = (_HEX_UPPER if upper else _HEX_LOWER)[8 + (np.asarray(h2) >> np.uint64(62)).astype(np.intp)]
    dash = literal("-", n)
    four = literal("4", n)
    return hcat(a[:, 0:8], dash, a[:, 8:12], dash, four, a[:, 13:16], dash, b[:, 0:4], dash, b[:, 4:16])


def uuid_string(h1: np.ndarray, h2: np.ndarray, upper: bool = False) -> pa.Array:
    return strings_from_matrix(uuid_matrix(h1, h2, upper))


def b64_matrix(words: Sequence[np.ndarray], width: int) -> np.ndarray:
    """`width` URL-safe base64 characters drawn from a list of uint64 hashes (10 chars per word)."""
    cols = []
    for w in words:
        w = np.asarray(w, dtype=np.uint64)
        for k in range(10):
            cols.append(_B64URL[((w >> np.uint64(6 * k)) & np.uint64(63)).astype(np.intp)])
    if len(cols) < width:
        raise ValueError(f"b64_matrix: {len(words)} words give {len(cols)} characters, {width} wanted")
    return np.stack(cols[:width], axis=1)


def code_matrix(h: np.ndarray, width: int) -> np.ndarray:
    """Unambiguous upper-case alphanumeric code (5 bits per character, width <= 12)."""
    h = np.asarray(h, dtype=np.uint64)
    cols = [_ALNUM_UPPER[((h >> np.uint64(5 * k)) & np.uint64(31)).astype(np.intp)] for k in range(width)]
    return np.stack(cols, axis=1)


def digits_matrix(values: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded decimal digits of non-negative integers (values must fit in `width`)."""
    v = np.asarray(values, dtype=np.int64)
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return ((v[:, None] // powers[None, :]) % 10 + 48).astype(np.uint8)


def digit_string(values: np.ndarray, width: int) -> pa.Array:
    return strings_from_matrix(digits_matrix(values, width))


def int_text(values: np.ndarray) -> pa.Array:
    """Integers as plain decimal text (no padding)."""
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())


def take(vocab: pa.Array, idx: np.ndarray) -> pa.Array:
    """Dense array vocab[idx]."""
    return pc.take(vocab, pa.array(np.asarray(idx, dtype=np.int32)))


def pick(vocab: pa.Array, idx: np.ndarray) -> pa.DictionaryArray:
    """vocab[idx] as a dictionary array (cheap for low-cardinality output columns)."""
    return pa.DictionaryArray.from_arrays(pa.array(np.asarray(idx, dtype=np.int32)), vocab)


def nulls(n: int, type_: pa.DataType | None = None) -> pa.Array:
    return pa.nulls(n, type_ if type_ is not None else pa.string())


def null_where(mask: np.ndarray, arr: pa.Array) -> pa.Array:
    """arr with the rows where mask is true set to null."""
    if not mask.any():
        return arr
    if isinstance(arr, pa.DictionaryArray):
        arr = arr.dictionary_decode()
    return pc.if_else(pa.array(mask), pa.scalar(None, arr.type), arr)


def where(mask: np.ndarray, a: pa.Array | str, b: pa.Array | str) -> pa.Array:
    return pc.if_else(pa.array(np.asarray(mask, dtype=bool)), a, b)


def join(*parts: pa.Array | str) -> pa.Array:
    """Element-wise concatenation; a null part makes the row null."""
    return pc.binary_join_element_wise(*parts, "")


def dense(arr: pa.Array) -> pa.Array:
    return arr.dictionary_decode() if isinstance(arr, pa.DictionaryArray) else arr


def by_group(choice: np.ndarray, n_groups: int, build: Callable[[int, np.ndarray], pa.Array]) -> pa.Array:
    """Row i is built by `build(choice[i], rows)`, each group built once on its own rows."""
    choice = np.asarray(choice)
    order = np.argsort(choice, kind="stable")
    pieces = []
    for g in range(n_groups):
        rows = order[np.searchsorted(choice[order], g, "left") : np.searchsorted(choice[order], g, "right")]
        if len(rows):
            pieces.append(dense(build(g, rows)))
    if not pieces:
        return pa.array([], pa.string())
    joined = pa.concat_arrays([p.cast(pieces[0].type) for p in pieces])
    inverse = np.empty(len(choice), dtype=np.int64)
    inverse[order] = np.arange(len(choice))
    return pc.take(joined, pa.array(inverse))


def timestamps(us: np.ndarray, null_mask: np.ndarray | None = None) -> pa.Array:
    arr = pa.array(np.asarray(us, dtype=np.int64), type=pa.int64()).view(TS_TYPE)
    if null_mask is not None and null_mask.any():
        arr = pc.if_else(pa.array(null_mask), pa.scalar(None, TS_TYPE), arr)
    return arr


def money(cents: np.ndarray, null_mask: np.ndarray | None = None) -> pa.Array:
    """numeric(12,2) values from integer cents, exactly."""
    c = np.asarray(cents, dtype=np.int64)
    words = np.empty((len(c), 2), dtype=np.int64)
    words[:, 0] = c
    words[:, 1] = c >> 63
    arr = pa.Array.from_buffers(MONEY_TYPE, len(c), [None, pa.py_buffer(words)])
    if null_mask is not None and null_mask.any():
        arr = pc.if_else(pa.array(null_mask), pa.scalar(None, MONEY_TYPE), arr)
    return arr


def amount_text(cents: np.ndarray) -> pa.Array:
    """Integer cents as export text: `12.30`, `-4.05`."""
    c = np.asarray(cents, dtype=np.int64)
    whole = int_text(np.abs(c) // 100)
    frac = digit_string(np.abs(c) % 100, 2)
    return join(where(c < 0, "-", ""), whole, ".", frac)


def random_case(rng: np.random.Generator, arr: pa.Array, upper: float, lower: float, title: float) -> pa.Array:
    """Re-case a share of the entries the way people type them."""
    arr = dense(arr)
    u = rng.random(len(arr))
    out = where(u < upper, pc.utf8_upper(arr), arr)
    out = where((u >= upper) & (u < upper + lower), pc.utf8_lower(arr), out)
    return where((u >= upper + lower) & (u < upper + lower + title), pc.utf8_title(arr), out)


def stray_space(rng: np.random.Generator, arr: pa.Array, rate: float) -> pa.Array:
    """Leading, trailing or doubled surrounding whitespace on a share of entries."""
    arr = dense(arr)
    u = rng.random(len(arr))
    out = where(u < rate / 3, join(" ", arr), arr)
    out = where((u >= rate / 3) & (u < 2 * rate / 3), join(arr, " "), out)
    return where((u >= 2 * rate / 3) & (u < rate), join("  ", arr, " "), out)


def replace_rows(arr: pa.Array, rows: np.ndarray, values: pa.Array) -> pa.Array:
    """arr with arr[rows[k]] replaced by values[k]."""
    idx = np.arange(len(arr), dtype=np.int64)
    idx[rows] = len(arr) + np.arange(len(rows))
    base = dense(arr)
    return pa.concat_arrays([base, dense(values).cast(base.type)]).take(pa.array(idx))


def at_rows(arr: pa.Array, rows: np.ndarray) -> pa.Array:
    """arr[rows] for a numpy index array."""
    return pc.take(arr, pa.array(np.asarray(rows, dtype=np.int64)))


def gather(values: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """values[max(idx, 0)], or zeros when `values` is empty (rows whose index is unused)."""
    idx = np.maximum(np.asarray(idx, dtype=np.int64), 0)
    if len(values) == 0:
        return np.zeros(len(idx), dtype=values.dtype)
    return values[idx]
