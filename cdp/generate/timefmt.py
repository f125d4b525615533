"""Time arithmetic and text timestamps, vectorised (pyarrow's strftime is too slow at this scale)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from cdp.generate.arrowkit import digits_matrix, hcat, literal, strings_from_matrix

US_PER_S = 1_000_000
US_PER_MIN = 60 * US_PER_S
US_PER_H = 60 * US_PER_MIN
US_PER_DAY = 24 * US_PER_H
US_PER_YEAR = int(365.25 * US_PER_DAY)


def date_us(day: dt.date) -> int:
    return int((day - dt.date(1970, 1, 1)).days) * US_PER_DAY


def civil(us: np.ndarray) -> dict[str, np.ndarray]:
    """Calendar fields of UTC microsecond timestamps (or wall-clock microseconds)."""
    t = np.asarray(us, dtype=np.int64).astype("datetime64[us]")
    days = t.astype("datetime64[D]")
    months = t.astype("datetime64[M]")
    years = t.astype("datetime64[Y]")
    sod = (t - days).astype(np.int64) // US_PER_S
    return {
        "Y": years.astype(np.int64) + 1970,
        "m": (months - years).astype(np.int64) + 1,
        "d": (days - months).astype(np.int64) + 1,
        "H": sod // 3600,
        "M": (sod // 60) % 60,
        "S": sod % 60,
    }


def _date_matrix(f: dict[str, np.ndarray], sep: str = "-") -> np.ndarray:
    n = len(f["Y"])
    s = literal(sep, n)
    return hcat(digits_matrix(f["Y"], 4), s, digits_matrix(f["m"], 2), s, digits_matrix(f["d"], 2))


def _time_matrix(f: dict[str, np.ndarray]) -> np.ndarray:
    n = len(f["H"])
    c = literal(":", n)
    return hcat(digits_matrix(f["H"], 2), c, digits_matrix(f["M"], 2), c, digits_matrix(f["S"], 2))


def text_date(us: np.ndarray) -> pa.Array:
    """`YYYY-MM-DD`."""
    return strings_from_matrix(_date_matrix(civil(us)))


def text_time(us: np.ndarray) -> pa.Array:
    """`HH:MM:SS`."""
    return strings_from_matrix(_time_matrix(civil(us)))


def text_datetime(us: np.ndarray, sep: str = " ") -> pa.Array:
    """`YYYY-MM-DD HH:MM:SS` (or with `T`)."""
    f = civil(us)
    n = len(f["Y"])
    return strings_from_matrix(hcat(_date_matrix(f), literal(sep, n), _time_matrix(f)))


def text_iso_offset(utc_us: np.ndarray, offset_minutes: np.ndarray, zulu: np.ndarray) -> pa.Array:
    """ISO 8601 with offset: local wall time then `+HH:MM`/`-HH:MM`, or `Z` where zulu (offset 0)."""
    off = np.where(zulu, 0, np.asarray(offset_minutes, dtype=np.int64))
    f = civil(np.asarray(utc_us, dtype=np.int64) + off * US_PER_MIN)
    n = len(off)
    body = hcat(_date_matrix(f), literal("T", n), _time_matrix(f))
    sign = np.where(off < 0, ord("-"), ord("+")).astype(np.uint8)[:, None]
    tail = hcat(sign, digits_matrix(np.abs(off) // 60, 2), literal(":", n), digits_matrix(np.abs(off) % 60, 2))
    with_offset = strings_from_matrix(hcat(body, tail))
    with_z = strings_from_matrix(hcat(body, literal("Z", n)))
    import pyarrow.compute as pc

    return pc.if_else(pa.array(np.asarray(zulu, dtype=bool)), with_z, with_offset)


def text_slash_date(us: np.ndarray) -> pa.Array:
    """`DD/MM/YYYY` (a format staging cannot take for ISO)."""
    f = civil(us)
    n = len(f["Y"])
    s = literal("/", n)
    return strings_from_matrix(hcat(digits_matrix(f["d"], 2), s, digits_matrix(f["m"], 2), s, digits_matrix(f["Y"], 4)))


def _nth_sunday(year: int, month: int, nth: int) -> dt.date:
    first = dt.date(year, month, 1)
    first_sunday = first + dt.timedelta(days=(6 - first.weekday()) % 7)
    return first_sunday + dt.timedelta(weeks=nth - 1)


def new_york_offset_minutes(utc_us: np.ndarray) -> np.ndarray:
    """UTC offset of America/New_York at each instant (-240 in daylight time, -300 otherwise)."""
    utc_us = np.asarray(utc_us, dtype=np.int64)
    if len(utc_us) == 0:
        return np.zeros(0, dtype=np.int64)
    y0 = int(civil(utc_us.min()[None])["Y"][0]) - 1
    y1 = int(civil(utc_us.max()[None])["Y"][0]) + 1
    bounds = []
    for year in range(y0, y1 + 1):
        start = date_us(_nth_sunday(year, 3, 2)) + 7 * US_PER_H  # 02:00 EST
        end = date_us(_nth_sunday(year, 11, 1)) + 6 * US_PER_H  # 02:00 EDT
        bounds += [start, end]
    inside = np.searchsorted(np.array(bounds, dtype=np.int64), utc_us, side="right") % 2 == 1
    return np.where(inside, -240, -300).astype(np.int64)
