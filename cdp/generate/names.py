"""Names as people and clerks type them: typos, nicknames, case and stray whitespace."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from cdp.generate.arrowkit import dense, random_case, replace_rows, stray_space, take, where
from cdp.generate.vocab import Vocabulary

_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _typo_one(word: str, op: int, pos: float, letter: int) -> str:
    if len(word) < 3:
        return word + _LETTERS[letter]
    i = 1 + int(pos * (len(word) - 2))  # keep the first letter
    if op == 0:  # substitution
        return word[:i] + _LETTERS[letter] + word[i + 1 :]
    if op == 1:  # transposition
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :] if i + 1 < len(word) else word[:-1]
    return word[:i] + word[i + 1 :]  # deletion


def with_typos(rng: np.random.Generator, arr: pa.Array, rate: float) -> pa.Array:
    """Substitute, transpose or drop one letter in a `rate` share of entries (a small subset)."""
    arr = dense(arr)
    n = len(arr)
    rows = np.flatnonzero(rng.random(n) < rate)
    if len(rows) == 0:
        return arr
    ops = rng.integers(0, 3, len(rows))
    pos = rng.random(len(rows))
    letters = rng.integers(0, 26, len(rows))
    words = arr.take(pa.array(rows)).to_pylist()
    fixed = [
        None if w is None else _typo_one(w, int(o), float(p), int(c))
        for w, o, p, c in zip(words, ops, pos, letters, strict=True)
    ]
    return replace_rows(arr, rows, pa.array(fixed, pa.string()))


def first_name_entries(
    rng: np.random.Generator,
    vocab: Vocabulary,
    first_idx: np.ndarray,
    nickname_rate: float = 0.0,
    typo_rate: float = 0.04,
    case_rate: float = 0.04,
    space_rate: float = 0.02,
) -> pa.Array:
    names = take(vocab.first_names, first_idx)
    nick = vocab.nickname_of[first_idx]
    use_nick = (nick >= 0) & (rng.random(len(first_idx)) < nickname_rate)
    if use_nick.any():
        names = where(use_nick, take(vocab.nicknames, np.maximum(nick, 0)), names)
    return _dress(rng, names, typo_rate, case_rate, space_rate)


def last_name_entries(
    rng: np.random.Generator,
    vocab: Vocabulary,
    last_idx: np.ndarray,
    typo_rate: float = 0.04,
    case_rate: float = 0.04,
    space_rate: float = 0.02,
) -> pa.Array:
    return _dress(rng, take(vocab.last_names, last_idx), typo_rate, case_rate, space_rate)


def _dress(
    rng: np.random.Generator, names: pa.Array, typo_rate: float, case_rate: float, space_rate: float
) -> pa.Array:
    names = with_typos(rng, names, typo_rate)
    names = random_case(rng, names, upper=case_rate * 0.5, lower=case_rate * 0.5, title=0.0)
    return stray_space(rng, names, space_rate)
