"""Evaluate the CLV models (BG/NBD + Gamma-Gamma) on a transaction log file, such as the CDNOW logs.

`cdp eval-clv --transactions FILE ...` reads a CSV (comma, semicolon, tab or whitespace separated,
like the CDNOW .txt files) or parquet log, fits both models on the purchases up to --calibration-end
and, when the log runs past that day, forecasts the repeat purchases of the holdout period
(calibration end, last day in the file] and compares them with what happened.

The reported forecast (holdout_forecast, holdout_error) is conditional: the sum over customers of
E[purchases in the holdout | that customer's calibration history]. The unconditional aggregate (the
sum over customers of E[X(T + holdout)] - E[X(T)], what a new customer with the same tenure would
do) is reported beside it as holdout_forecast_unconditional; on a well-fitted model the two agree.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cdp.scoring.clv import (
    expected_purchases,
    expected_purchases_new,
    fit_bgnbd,
    fit_gamma_gamma,
    rfm_summary,
)
from cdp.warehouse import ConfigError

PARQUET_EXTENSIONS = (".parquet", ".pq")
SEPARATORS = {"auto": None, "comma": ",", ",": ",", "semicolon": ";", ";": ";", "tab": "\t", "\\t": "\t",
              "\t": "\t", "whitespace": r"\s+", "space": r"\s+"}
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def _detect_separator(first_line: str, path: Path) -> str:
    """Comma, tab or semicolon if the first line holds one (in that order), else runs of whitespace."""
    if path.suffix.lower() == ".tsv":
        return "\t"
    for candidate in (",", "\t", ";"):
        if candidate in first_line:
            return candidate
    return r"\s+"


def read_transactions(path: str | Path, sep: str | None = None) -> pd.DataFrame:
    """A transaction log as a frame of strings (CSV) or typed columns (parquet).

    A CSV whose first line is all numbers has no header (like CDNOW_sample.txt): its columns are then
    named by 1-based position, "1", "2", ..., as in awk or cut. Values are read as strings so ids keep
    their leading zeros; dates and amounts are parsed (and checked) later.
    """
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"--transactions {str(path)!r}: no such file")
    if file.name.lower().endswith(PARQUET_EXTENSIONS):
        try:
            return pd.read_parquet(file)
        except Exception as exc:  # pyarrow raises many kinds; all mean "not a readable parquet"
            raise ConfigError(f"--transactions {str(path)!r}: not a readable parquet file ({exc})") from None
    key = "auto" if sep is None else sep
    if key not in SEPARATORS:
        raise ConfigError(f"--sep {sep!r} (for {str(path)!r}): use one of {sorted(SEPARATORS)}")
    with file.open("r", encoding="utf-8", errors="replace") as handle:
        first_line = handle.readline()
    if not first_line.strip():
        raise ConfigError(f"--transactions {str(path)!r}: the file is empty")
    separator = SEPARATORS[key] or _detect_separator(first_line, file)
    fields = re.split(separator, first_line.strip()) if separator == r"\s+" else first_line.strip().split(separator)
    headerless = all(_NUMBER.match(f.strip().strip('"')) for f in fields)
    try:
        frame = pd.read_csv(file, sep=separator, dtype=str, header=None if headerless else 0,
                            skipinitialspace=True)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ConfigError(f"--transactions {str(path)!r}: cannot parse with separator {separator!r} ({exc})") from None
    if headerless:
        frame.columns = [str(i + 1) for i in range(frame.shape[1])]
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _check_columns(frame: pd.DataFrame, path: str | Path, columns: dict[str, str]) -> None:
    """Every option's column must exist; the error names the file, the option and the value."""
    for option, column in columns.items():
        if column not in frame.columns:
            raise ConfigError(f"--transactions {str(path)!r}: {option} {column!r} is not a column; "
                              f"the file has {list(frame.columns)}")


def eval_clv(
    path: str | Path,
    customer_column: str,
    date_column: str,
    amount_column: str,
    calibration_end: str,
    date_format: str | None = None,
    sep: str | None = None,
) -> dict[str, Any]:
    """Fit BG/NBD and Gamma-Gamma on the log up to calibration_end and score the holdout forecast.

    Returns r, alpha, a, b, log_likelihood (BG/NBD), p, q, gamma (Gamma-Gamma), holdout_error
    ((forecast - actual) / actual repeat purchase days after calibration_end, None when the log stops
    there), and extras: customers, repeat_buyers, zero_spend_repeat_buyers, gamma_gamma_log_likelihood,
    converged, calibration_end, observation_end, holdout_weeks, holdout_actual, holdout_forecast,
    holdout_forecast_unconditional, seconds.
    """
    started = time.monotonic()
    frame = read_transactions(path, sep)
    _check_columns(frame, path, {"--customer-column": customer_column, "--date-column": date_column,
                                 "--amount-column": amount_column})
    if frame.empty:
        raise ConfigError(f"--transactions {str(path)!r}: the file holds no rows")
    try:
        cal_end = pd.Timestamp(calibration_end)
    except (TypeError, ValueError):
        raise ConfigError(f"--calibration-end {calibration_end!r}: not a date (use YYYY-MM-DD)") from None
    try:
        dates = pd.Series(pd.to_datetime(frame[date_column].astype(str).str.strip(), format=date_format,
                                         errors="coerce"), index=frame.index)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"--transactions {str(path)!r}: --date-column {date_column!r} cannot be read "
                          f"as dates ({exc}); give --date-format") from None
    bad = dates.isna()
    if bad.any():
        hint = f"--date-format {date_format!r}" if date_format else "give --date-format, e.g. %Y%m%d"
        raise ConfigError(f"--transactions {str(path)!r}: --date-column {date_column!r} has an unparsable date "
                          f"{frame[date_column][bad].iloc[0]!r} ({hint})")
    last_day = dates.max().normalize()
    observation_end = last_day if last_day > cal_end.normalize() else None
    log = pd.DataFrame({"customer": frame[customer_column], "day": dates, "amount": frame[amount_column]})
    try:
        summary = rfm_summary(log, "customer", "day", "amount", cal_end, observation_end)
    except ValueError as exc:
        message = str(exc).replace("'customer'", f"--customer-column {customer_column!r}").replace(
            "'amount'", f"--amount-column {amount_column!r}")
        raise ConfigError(f"--transactions {str(path)!r}: {message}") from None
    if summary.empty:
        raise ConfigError(f"--transactions {str(path)!r}: no customer bought on or before "
                          f"--calibration-end {calibration_end!r} (first day in the file: {dates.min():%Y-%m-%d})")
    x = summary["frequency"].to_numpy(dtype="float64")
    t_x, big_t = summary["recency"].to_numpy(), summary["T"].to_numpy()
    bgnbd = fit_bgnbd(x, t_x, big_t)
    spend = fit_gamma_gamma(x, summary["monetary_value"].to_numpy())
    result: dict[str, Any] = {
        "r": round(bgnbd.r, 6), "alpha": round(bgnbd.alpha, 6), "a": round(bgnbd.a, 6), "b": round(bgnbd.b, 6),
        "log_likelihood": round(bgnbd.log_likelihood, 4),
        "p": round(spend.p, 6), "q": round(spend.q, 6), "gamma": round(spend.gamma, 6),
        "holdout_error": None,
        "customers": len(summary), "repeat_buyers": int((x > 0).sum()),
        "zero_spend_repeat_buyers": spend.excluded,
        "gamma_gamma_log_likelihood": round(spend.log_likelihood, 4), "converged": bgnbd.converged,
        "calibration_end": f"{cal_end:%Y-%m-%d}",
        "observation_end": None if observation_end is None else f"{observation_end:%Y-%m-%d}",
        "holdout_weeks": None, "holdout_actual": None, "holdout_forecast": None,
        "holdout_forecast_unconditional": None,
    }
    if observation_end is not None:
        duration = float(summary["holdout_duration"].iloc[0])
        actual = int(summary["holdout_frequency"].sum())
        forecast = float(expected_purchases(bgnbd, duration, x, t_x, big_t).sum())
        unconditional = float((expected_purchases_new(bgnbd, big_t + duration) - expected_purchases_new(bgnbd, big_t))
                              .sum())
        result.update({
            "holdout_weeks": round(duration, 4), "holdout_actual": actual, "holdout_forecast": round(forecast, 2),
            "holdout_forecast_unconditional": round(unconditional, 2),
            "holdout_error": round((forecast - actual) / actual, 6) if actual else None,
        })
    result["seconds"] = round(time.monotonic() - started, 3)
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in result.items()}
