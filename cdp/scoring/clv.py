"""Customer lifetime value: BG/NBD purchase counts times Gamma-Gamma spend, fitted by maximum likelihood.

BG/NBD (Fader, Hardie and Lee 2005): while alive a customer buys at a Poisson rate lambda ~ Gamma(r, alpha)
and after each purchase drops out with probability p ~ Beta(a, b). Per customer it needs only
x (repeat purchases: distinct purchase days after the first), t_x (time of the last purchase since the
first) and T (time from the first purchase to the end of calibration). Gamma-Gamma (Fader and Hardie
2013) models the average spend per repeat purchase: spend ~ Gamma(p, nu), nu ~ Gamma(q, gamma).

Both fits maximise the exact log-likelihood over log-parameters with scipy's L-BFGS-B and an analytic
gradient. Customers with the same (x, t_x, T) contribute the same term, so the BG/NBD likelihood is
evaluated once per distinct triple with a weight: with times measured in whole days, a million customers
collapse to a few hundred thousand distinct triples at most.

Zero-amount rows are purchase occasions: they count towards x, t_x and the holdout (a free order is
still a visit), and their zero adds to that day's spend. A repeat buyer whose average repeat spend is 0
cannot enter the Gamma-Gamma fit (its likelihood needs a positive mean); such buyers are left out of
the fit, counted in `GammaGammaFit.excluded`, and scored with the population mean spend like a
customer with no repeat purchase.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd
from scipy import optimize, special

CLV_MODEL_NAME = "bgnbd_gamma_gamma"
CLV_MODEL_VERSION = "1"
DEFAULT_MIN_REPEAT_BUYERS = 30
DAY = np.timedelta64(1, "D")

ArrayLike = np.ndarray | pd.Series | list[float] | float

CLV_COLUMNS = (
    "customer_id", "frequency", "recency_weeks", "tenure_weeks", "average_order_value", "probability_alive",
    "expected_purchases", "expected_average_value", "expected_value", "horizon_days", "bgnbd_r", "bgnbd_alpha",
    "bgnbd_a", "bgnbd_b", "model_version", "as_of",
)


class InsufficientData(ValueError):
    """Too few customers or repeat buyers to fit the models; the message states the counts."""


@dataclass(frozen=True)
class BGNBDFit:
    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    n: int
    converged: bool


@dataclass(frozen=True)
class GammaGammaFit:
    p: float
    q: float
    gamma: float
    log_likelihood: float
    n: int
    excluded: int = 0


# --------------------------------------------------------------------------------------------
# Input checks and the per-customer summary
# --------------------------------------------------------------------------------------------


def _example(values: pd.Series, bad: pd.Series) -> str:
    """The first offending value, quoted, for an error message (numpy scalars shown as plain numbers)."""
    value = values[bad].iloc[0]
    return repr(value.item() if isinstance(value, np.generic) else value)


def _as_naive_utc(stamp: pd.Timestamp) -> pd.Timestamp:
    """Drop a time zone after converting to UTC, so aware and naive times compare."""
    return stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo is not None else stamp


def _parse_dates(values: pd.Series, column: str, date_format: str | None) -> pd.Series:
    """Dates or timestamps as naive UTC datetime64; a ValueError names the column and a bad value.

    Integer columns are read as YYYYMMDD (as in the CDNOW logs), never as epoch nanoseconds.
    """
    if values.isna().any():
        raise ValueError(f"column {column!r} has a missing date (e.g. row {values.index[values.isna()][0]!r})")
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC").dt.tz_localize(None)
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    text = values.astype(str).str.strip() if not pd.api.types.is_object_dtype(values) else values
    if pd.api.types.is_integer_dtype(values) and date_format is None:
        date_format = "%Y%m%d"
    try:
        parsed = pd.to_datetime(text, format=date_format, errors="coerce", utc=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"column {column!r} holds values that are not dates: {exc}") from None
    bad = parsed.isna()
    if bad.any():
        hint = f" with format {date_format!r}" if date_format else ""
        raise ValueError(f"column {column!r} has an unparsable date{hint}: {_example(values, bad)}")
    return parsed.dt.tz_localize(None)


def _parse_amounts(values: pd.Series, column: str) -> np.ndarray:
    """Amounts as float64; NaN, non-numeric and negative values raise a ValueError naming one."""
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna()
    if bad.any():
        raise ValueError(f"column {column!r} has a missing or non-numeric amount: {_example(values, bad)}")
    negative = numbers < 0
    if negative.any():
        raise ValueError(f"column {column!r} has a negative amount: {_example(values, negative)} "
                         "(refunds must be netted before scoring)")
    return numbers.to_numpy(dtype="float64")


def _to_day(value: str | date | datetime | pd.Timestamp, name: str) -> np.datetime64:
    """A calibration or observation end as a day (times of day are dropped: the day is inclusive)."""
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} is not a date: {value!r}") from None
    if pd.isna(stamp):
        raise ValueError(f"{name} is not a date: {value!r}")
    return _as_naive_utc(stamp).normalize().to_datetime64().astype("datetime64[D]")


def rfm_summary(
    transactions: pd.DataFrame,
    customer_column: str,
    date_column: str,
    amount_column: str,
    calibration_end: str | date | datetime | pd.Timestamp,
    observation_end: str | date | datetime | pd.Timestamp | None = None,
    time_unit_days: float = 7.0,
    date_format: str | None = None,
) -> pd.DataFrame:
    """Per customer whose first purchase is on or before calibration_end: frequency, recency, T, monetary_value.

    Times are whole days (purchases on one day are one occasion, their amounts summed) divided by
    time_unit_days (weeks by default). frequency = purchase days after the first; recency = last purchase
    day minus the first; T = calibration_end minus the first purchase day; monetary_value = mean spend per
    repeat purchase day (first day excluded; 0 when there is no repeat purchase). With observation_end,
    holdout_frequency counts purchase days in (calibration_end, observation_end] and holdout_duration is
    that span. Rows after observation_end (or after calibration_end without one) are ignored. The result is
    indexed by customer, sorted, so the same input always gives the same frame.
    """
    missing = [c for c in (customer_column, date_column, amount_column) if c not in transactions.columns]
    if missing:
        raise ValueError(f"transactions lack column(s) {missing}; got {list(transactions.columns)}")
    if time_unit_days <= 0:
        raise ValueError(f"time_unit_days must be positive, got {time_unit_days!r}")
    customers = transactions[customer_column]
    if customers.isna().any():
        raise ValueError(f"column {customer_column!r} has a missing customer id "
                         f"(e.g. row {customers.index[customers.isna()][0]!r})")
    days = _parse_dates(transactions[date_column], date_column, date_format).to_numpy().astype("datetime64[D]")
    amounts = _parse_amounts(transactions[amount_column], amount_column)
    cal_end = _to_day(calibration_end, "calibration_end")
    obs_end = _to_day(observation_end, "observation_end") if observation_end is not None else cal_end
    if obs_end < cal_end:
        raise ValueError(f"observation_end {observation_end!r} is before calibration_end {calibration_end!r}")

    keep = days <= obs_end
    # customers as integer codes in sorted order: one sort of the ids, then every grouping is
    # over integers (grouping millions of text ids twice cost most of the time)
    codes, ids = pd.factorize(customers.to_numpy()[keep], sort=True)
    per_day = (
        pd.DataFrame({"customer": codes, "day": days[keep].astype("int64"), "amount": amounts[keep]})
        .groupby(["customer", "day"], sort=True, observed=True)["amount"].sum()
        .reset_index()
    )
    cal_end_day = int(cal_end.astype("int64"))
    in_calibration = per_day["day"].to_numpy() <= cal_end_day
    calibration = per_day[in_calibration]
    grouped = calibration.groupby("customer", sort=True, observed=True)
    first = grouped["day"].min()
    first_amount = grouped["amount"].first()  # rows are sorted by day within a customer
    summary = pd.DataFrame({
        "frequency": grouped["day"].size() - 1,
        "recency": (grouped["day"].max() - first) / time_unit_days,
        "T": (cal_end_day - first) / time_unit_days,
    })
    repeat_spend = grouped["amount"].sum() - first_amount
    summary["monetary_value"] = np.where(summary["frequency"] > 0,
                                         repeat_spend / summary["frequency"].clip(lower=1), 0.0)
    summary["frequency"] = summary["frequency"].astype("int64")
    if observation_end is not None:
        holdout = per_day[~in_calibration].groupby("customer", sort=True, observed=True).size()
        summary["holdout_frequency"] = holdout.reindex(summary.index, fill_value=0).astype("int64")
        summary["holdout_duration"] = float(int(obs_end.astype("int64")) - cal_end_day) / time_unit_days
    summary.index = pd.Index(ids[summary.index.to_numpy()], name=customer_column)
    return summary


# --------------------------------------------------------------------------------------------
# BG/NBD
# --------------------------------------------------------------------------------------------


def _wsum(weights: np.ndarray, values: np.ndarray) -> float:
    """sum(weights * values) without BLAS: a threaded BLAS dot stalls on a busy machine, an einsum does not."""
    return float(np.einsum("i,i->", weights, values))


def _compress(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Distinct rows of the given columns (sorted), their counts and the inverse index back to every row."""
    order = np.lexsort(columns[::-1])
    ordered = [c[order] for c in columns]
    starts = np.ones(len(order), dtype=bool)
    for values in ordered:
        starts[1:] &= values[1:] == values[:-1]
    starts = ~starts
    starts[:1] = True
    group = np.cumsum(starts) - 1
    inverse = np.empty(len(order), dtype=np.int64)
    inverse[order] = group
    counts = np.bincount(group).astype("float64")
    return [values[starts] for values in ordered], counts, inverse


@dataclass(frozen=True)
class _Histories:
    """Distinct (x, t_x, T) rows with weights, plus the distinct x values: every special function of the
    likelihood depends on x alone, so it is evaluated once per distinct x (a few hundred at most)."""

    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    weights: np.ndarray
    x_levels: np.ndarray
    x_index: np.ndarray

    @classmethod
    def of(cls, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray) -> _Histories:
        (ux, ut, uT), weights, _ = _compress(x, t_x, big_t)
        levels, index = np.unique(ux, return_inverse=True)
        return cls(ux, ut, uT, weights, levels, index.reshape(-1))


def _bgnbd_terms(params: np.ndarray, data: _Histories) -> tuple[np.ndarray, ...]:
    """Per-row log-likelihood and its partial derivatives in (r, alpha, a, b).

    L = B(a, b+x)/B(a, b) G(r+x)/G(r) alpha^r [(alpha+T)^-(r+x) + [x>0] a/(b+x-1) (alpha+t_x)^-(r+x)],
    using B(a+1, b+x-1) = B(a, b+x) a/(b+x-1) and digamma(z-1) = digamma(z) - 1/(z-1).
    """
    r, alpha, a, b = params
    lx = data.x_levels
    i = data.x_index
    x, t_x, big_t = data.x, data.t_x, data.T
    repeat = x > 0
    # Functions of x alone, on the distinct x values.
    level_const = special.gammaln(r + lx) - special.gammaln(r) + special.betaln(a, b + lx) - special.betaln(a, b)
    dig_rx = special.digamma(r + lx) - special.digamma(r)
    dig_ab = special.digamma(a + b)
    dig_abx = special.digamma(a + b + lx)
    dig_bx = special.digamma(b + lx)
    b_minus_level = np.where(lx > 0, b + lx - 1.0, 1.0)  # b + x - 1 is only used where x > 0
    log_alpha_T = np.log(alpha + big_t)
    log_alpha_tx = np.log(alpha + t_x)
    rx = r + x
    term1 = -rx * log_alpha_T
    b_minus = b_minus_level[i]
    term2 = np.where(repeat, np.log(a) - np.log(b_minus) - rx * log_alpha_tx, -np.inf)
    mixture = np.logaddexp(term1, term2)
    w2 = np.exp(term2 - mixture)  # share of the "dropped out after the last purchase" branch
    w1 = 1.0 - w2
    d_r = dig_rx[i] + np.log(alpha) - w1 * log_alpha_T - w2 * log_alpha_tx
    d_alpha = r / alpha - rx * (w1 / (alpha + big_t) + w2 / (alpha + t_x))
    d_a = (dig_ab - dig_abx)[i] + w2 / a
    d_b = (dig_bx - special.digamma(b) + dig_ab - dig_abx)[i] - w2 / b_minus
    return level_const[i] + r * np.log(alpha) + mixture, d_r, d_alpha, d_a, d_b


def bgnbd_log_likelihood(r: float, alpha: float, a: float, b: float, frequency: ArrayLike, recency: ArrayLike,
                         T: ArrayLike) -> float:
    """Total BG/NBD log-likelihood of the given customers under the given parameters."""
    x, t_x, big_t = (np.asarray(v, dtype="float64").reshape(-1) for v in (frequency, recency, T))
    data = _Histories.of(x, t_x, big_t)
    return _wsum(data.weights, _bgnbd_terms(np.array([r, alpha, a, b]), data)[0])


def _check_rfm(x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray) -> None:
    """Reject summaries the model cannot describe: negative or non-integer x, t_x outside [0, T]."""
    if not (len(x) == len(t_x) == len(big_t)):
        raise ValueError(f"frequency, recency and T differ in length: {len(x)}, {len(t_x)}, {len(big_t)}")
    if len(x) == 0:
        raise InsufficientData("no customers to fit")
    for name, values in (("frequency", x), ("recency", t_x), ("T", big_t)):
        if not np.isfinite(values).all():
            raise ValueError(f"{name} has a missing or infinite value: {values[~np.isfinite(values)][0]!r}")
    bad = (x < 0) | (x != np.round(x))
    if bad.any():
        raise ValueError(f"frequency must be a non-negative whole number, got {x[bad][0]!r}")
    bad = (t_x < 0) | (t_x > big_t + 1e-9) | ((x == 0) & (t_x != 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"recency must lie in [0, T] and be 0 without repeat purchases: "
                         f"frequency {x[i]!r}, recency {t_x[i]!r}, T {big_t[i]!r}")


def _maximise(objective: Callable[[np.ndarray], tuple[float, np.ndarray]],
              starts: tuple[np.ndarray, ...]) -> optimize.OptimizeResult:
    """Minimise a mean negative log-likelihood over log-parameters from each start; keep the best.

    BFGS with the analytic gradient: on these 3-4 parameter problems it needs a few dozen evaluations
    (scipy's L-BFGS-B spends more time in its own bookkeeping than in the likelihood here).
    """
    best = None
    for start in starts:
        result = optimize.minimize(objective, start, jac=True, method="BFGS", options={"gtol": 1e-8})
        if best is None or result.fun < best.fun:
            best = result
    return best


def _guarded(value: float, gradient: np.ndarray) -> tuple[float, np.ndarray]:
    """Steer the line search away from parameters where the likelihood under/overflows."""
    if not (np.isfinite(value) and np.isfinite(gradient).all()):
        return 1e10, np.zeros_like(gradient)
    return value, gradient


def fit_bgnbd(frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> BGNBDFit:
    """Maximum-likelihood BG/NBD parameters for customers with the given (x, t_x, T).

    Optimises over log-parameters (so every parameter stays positive) from two starting points and
    keeps the better optimum; the analytic gradient makes each run a few dozen likelihood evaluations.
    """
    x, t_x, big_t = (np.asarray(v, dtype="float64").reshape(-1) for v in (frequency, recency, T))
    _check_rfm(x, t_x, big_t)
    data = _Histories.of(x, t_x, big_t)
    total = float(data.weights.sum())

    def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        params = np.exp(np.clip(log_params, -30.0, 30.0))
        ll, *grads = _bgnbd_terms(params, data)
        gradient = -np.array([_wsum(data.weights, g) for g in grads]) * params / total
        return _guarded(-_wsum(data.weights, ll) / total, gradient)

    scale = max(float(np.mean(big_t)), 1e-6)
    best = _maximise(objective, (np.log([1.0, scale, 1.0, 1.0]), np.log([0.5, scale / 4.0, 0.5, 2.0])))
    r, alpha, a, b = (float(v) for v in np.exp(best.x))
    gradient_ok = float(np.max(np.abs(best.jac))) < 1e-5
    return BGNBDFit(r=r, alpha=alpha, a=a, b=b, log_likelihood=-float(best.fun) * total, n=int(total),
                    converged=bool(best.success or gradient_ok))


def _log_odds_dead(fit: BGNBDFit, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray) -> np.ndarray:
    """log(a / (b + x - 1) * ((alpha + T) / (alpha + t_x))^(r + x)) for repeat buyers, -inf otherwise."""
    repeat = x > 0
    b_minus = np.where(repeat, fit.b + x - 1.0, 1.0)
    value = (np.log(fit.a) - np.log(b_minus)
             + (fit.r + x) * (np.log(fit.alpha + big_t) - np.log(fit.alpha + t_x)))
    return np.where(repeat, value, -np.inf)


def probability_alive(fit: BGNBDFit, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> np.ndarray:
    """P(customer still alive at T | x, t_x, T); 1 for customers without a repeat purchase."""
    xs, txs, ts = np.broadcast_arrays(*(np.asarray(v, dtype="float64") for v in (x, t_x, T)))
    return np.exp(-np.logaddexp(0.0, _log_odds_dead(fit, xs, txs, ts)))


def _expected_core(fit: BGNBDFit, t: np.ndarray, x: np.ndarray, big_t: np.ndarray) -> np.ndarray:
    """(a+b+x-1)/(a-1) * [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; t/(alpha+T+t))].

    Evaluated through Euler's transformation, (1-z)^(r+x) 2F1(r+x, b+x; c; z) = (1-z)^(a-1)
    2F1(a+b-1-r, a-1; c; z) with c = a+b+x-1, which converges fast and never overflows for large x;
    where that is not finite the direct form is used. a = 1 is a removable singularity: a is nudged.
    """
    r, alpha, b = fit.r, fit.alpha, fit.b
    a = fit.a if abs(fit.a - 1.0) > 1e-7 else 1.0 + 1e-7
    c = a + b + x - 1.0
    z = t / (alpha + big_t + t)
    euler = np.exp((a - 1.0) * np.log1p(-z)) * special.hyp2f1(a + b - 1.0 - r, a - 1.0, c, z)
    bad = ~np.isfinite(euler)
    if bad.any():
        log_ratio = (r + x[bad]) * (np.log(alpha + big_t[bad]) - np.log(alpha + big_t[bad] + t[bad]))
        euler[bad] = np.exp(log_ratio) * special.hyp2f1(r + x[bad], b + x[bad], c[bad], z[bad])
    return c / (a - 1.0) * (1.0 - euler)


def expected_purchases(fit: BGNBDFit, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> np.ndarray:
    """E[purchases in (T, T + t] | x, t_x, T]: the conditional expectation of FHL 2005, equation 10."""
    ts, xs, txs, big_ts = np.broadcast_arrays(*(np.asarray(v, dtype="float64") for v in (t, x, t_x, T)))
    core = _expected_core(fit, ts, xs, big_ts)
    expected = core * np.exp(-np.logaddexp(0.0, _log_odds_dead(fit, xs, txs, big_ts)))
    return np.where(ts > 0, expected, 0.0)


def expected_purchases_new(fit: BGNBDFit, t: ArrayLike) -> np.ndarray:
    """E[X(t)]: repeat purchases a new customer makes in the t time units after the first purchase."""
    ts = np.asarray(t, dtype="float64")
    zeros = np.zeros_like(ts)
    return np.where(ts > 0, _expected_core(fit, ts, zeros, zeros), 0.0)


# --------------------------------------------------------------------------------------------
# Gamma-Gamma
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Spends:
    """Repeat buyers' x and mean spend m, with the sums the Gamma-Gamma likelihood reuses every evaluation
    and the distinct x values (the gamma functions depend on x alone)."""

    x: np.ndarray
    total: np.ndarray  # m * x, the customer's total repeat spend
    x_levels: np.ndarray
    level_counts: np.ndarray
    sum_log_m: float
    sum_x_log_m: float
    sum_x_log_x: float

    @classmethod
    def of(cls, x: np.ndarray, m: np.ndarray) -> _Spends:
        levels, counts = np.unique(x, return_counts=True)
        log_m = np.log(m)
        return cls(x, m * x, levels, counts.astype("float64"), float(log_m.sum()), _wsum(x, log_m),
                   _wsum(x, np.log(x)))


def _gamma_gamma_totals(params: np.ndarray, data: _Spends) -> tuple[float, np.ndarray]:
    """Total Gamma-Gamma log-likelihood and its gradient in (p, q, gamma).

    Per customer: log G(px+q) - log G(px) - log G(q) + q log gamma + (px-1) log m + px log x
    - (px+q) log(gamma + m x); the terms in m and x alone are precomputed sums.
    """
    p, q, gamma = params
    n = float(len(data.x))
    lx, counts = data.x_levels, data.level_counts
    plx = p * lx
    log_total = np.log(gamma + data.total)
    weight = p * data.x + q
    level_ll = _wsum(counts, (special.gammaln(plx + q) - special.gammaln(plx)))
    ll = (level_ll - n * special.gammaln(q) + n * q * np.log(gamma) + p * data.sum_x_log_m - data.sum_log_m
          + p * data.sum_x_log_x - _wsum(weight, log_total))
    dig_pxq = special.digamma(plx + q)
    d_p = (_wsum(counts, lx * (dig_pxq - special.digamma(plx))) + data.sum_x_log_m + data.sum_x_log_x
           - _wsum(data.x, log_total))
    d_q = _wsum(counts, dig_pxq) - n * special.digamma(q) + n * np.log(gamma) - float(log_total.sum())
    d_gamma = n * q / gamma - float((weight / (gamma + data.total)).sum())
    return float(ll), np.array([d_p, d_q, d_gamma])


def gamma_gamma_log_likelihood(p: float, q: float, gamma: float, frequency: ArrayLike,
                               monetary_value: ArrayLike) -> float:
    """Total Gamma-Gamma log-likelihood of repeat buyers (frequency > 0, monetary_value > 0) under (p, q, gamma)."""
    x = np.asarray(frequency, dtype="float64").reshape(-1)
    m = np.asarray(monetary_value, dtype="float64").reshape(-1)
    usable = (x > 0) & (m > 0)
    return _gamma_gamma_totals(np.array([p, q, gamma]), _Spends.of(x[usable], m[usable]))[0]


def fit_gamma_gamma(frequency: ArrayLike, monetary_value: ArrayLike) -> GammaGammaFit:
    """Maximum-likelihood Gamma-Gamma parameters on repeat buyers (frequency > 0, mean spend > 0).

    Customers without a repeat purchase carry no spend information and are skipped silently; repeat
    buyers with a zero mean spend are skipped and counted in `excluded` (the model needs positive spend).
    """
    x = np.asarray(frequency, dtype="float64").reshape(-1)
    m = np.asarray(monetary_value, dtype="float64").reshape(-1)
    if len(x) != len(m):
        raise ValueError(f"frequency and monetary_value differ in length: {len(x)}, {len(m)}")
    if not (np.isfinite(x).all() and np.isfinite(m).all()) or (m < 0).any():
        raise ValueError("frequency and monetary_value must be finite and monetary_value non-negative")
    repeat = x > 0
    usable = repeat & (m > 0)
    excluded = int((repeat & ~usable).sum())
    if usable.sum() < 3:
        raise InsufficientData(f"Gamma-Gamma needs at least 3 repeat buyers with positive spend; got "
                               f"{int(usable.sum())} ({excluded} more with zero spend)")
    data = _Spends.of(x[usable], m[usable])
    n = len(data.x)
    scale = float(np.mean(m[usable]))

    def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        params = np.exp(np.clip(log_params, -30.0, 30.0))
        ll, gradient = _gamma_gamma_totals(params, data)
        return _guarded(-ll / n, -gradient * params / n)

    best = _maximise(objective, (np.log([1.0, 2.0, scale]), np.log([5.0, 3.0, scale / 2.0])))
    p, q, gamma = (float(v) for v in np.exp(best.x))
    return GammaGammaFit(p=p, q=q, gamma=gamma, log_likelihood=-float(best.fun) * n, n=n, excluded=excluded)


def expected_average_value(fit: GammaGammaFit, x: ArrayLike, mean_value: ArrayLike) -> np.ndarray:
    """E[mean spend per purchase | x purchases averaging mean_value]: a weighted mix of the population mean
    p*gamma/(q-1) and the customer's own mean. Without a usable purchase history (x = 0 or zero spend) it is
    the population mean. Needs q > 1 (otherwise the population mean is infinite)."""
    if fit.q <= 1.0:
        raise ValueError(f"Gamma-Gamma q = {fit.q:.4g} <= 1: the expected spend is infinite")
    xs, ms = np.broadcast_arrays(np.asarray(x, dtype="float64"), np.asarray(mean_value, dtype="float64"))
    own = (xs > 0) & (ms > 0)
    px = fit.p * np.where(own, xs, 0.0)
    weight = px / (px + fit.q - 1.0)
    population = fit.p * fit.gamma / (fit.q - 1.0)
    return (1.0 - weight) * population + weight * np.where(own, ms, 0.0)


# --------------------------------------------------------------------------------------------
# Warehouse entry point
# --------------------------------------------------------------------------------------------


def customer_clv(
    transactions: pd.DataFrame,
    as_of: str | date | datetime | pd.Timestamp,
    horizon_days: int = 365,
    min_repeat_buyers: int = DEFAULT_MIN_REPEAT_BUYERS,
) -> pd.DataFrame:
    """One row per customer who bought on or before as_of: BG/NBD + Gamma-Gamma lifetime value over horizon_days.

    transactions: customer_id, ordered_at (timestamp), revenue. Orders after as_of's day are ignored;
    times are whole days, in weeks. expected_value = expected_purchases * expected_average_value over the
    next horizon_days, undiscounted. Raises InsufficientData when fewer than min_repeat_buyers customers
    bought again with a positive spend. Output sorted by customer_id; the same input gives the same output.
    """
    if horizon_days <= 0:
        raise ValueError(f"horizon_days must be positive, got {horizon_days!r}")
    summary = rfm_summary(transactions, "customer_id", "ordered_at", "revenue", calibration_end=as_of)
    x = summary["frequency"].to_numpy(dtype="float64")
    t_x = summary["recency"].to_numpy()
    big_t = summary["T"].to_numpy()
    m = summary["monetary_value"].to_numpy()
    repeat_buyers = int((x > 0).sum())
    spenders = int(((x > 0) & (m > 0)).sum())
    if spenders < max(min_repeat_buyers, 3):
        raise InsufficientData(
            f"customer_clv needs at least {min_repeat_buyers} repeat buyers with positive spend as of {as_of}; "
            f"got {spenders} ({repeat_buyers} repeat buyers among {len(summary)} customers)")
    bgnbd = fit_bgnbd(x, t_x, big_t)
    spend = fit_gamma_gamma(x, m)
    horizon = horizon_days / 7.0
    (ux, ut, uT), _, inverse = _compress(x, t_x, big_t)  # score each distinct history once
    alive = probability_alive(bgnbd, ux, ut, uT)[inverse]
    purchases = expected_purchases(bgnbd, horizon, ux, ut, uT)[inverse]
    average = expected_average_value(spend, x, m)
    as_of_stamp = _as_naive_utc(pd.Timestamp(as_of))
    out = pd.DataFrame({
        "customer_id": summary.index.to_numpy(),
        "frequency": summary["frequency"].to_numpy(),
        "recency_weeks": t_x,
        "tenure_weeks": big_t,
        "average_order_value": np.where(x > 0, m, np.nan),
        "probability_alive": alive,
        "expected_purchases": purchases,
        "expected_average_value": average,
        "expected_value": purchases * average,
        "horizon_days": int(horizon_days),
        "bgnbd_r": bgnbd.r,
        "bgnbd_alpha": bgnbd.alpha,
        "bgnbd_a": bgnbd.a,
        "bgnbd_b": bgnbd.b,
        "model_version": CLV_MODEL_VERSION,
        "as_of": as_of_stamp,
    })
    return out[list(CLV_COLUMNS)]


CLV_SCORE_MODEL_NAME = "customer_lifetime_value"
_EMPTY_DTYPES = {
    "customer_id": "object", "frequency": "float64", "recency_weeks": "float64", "tenure_weeks": "float64",
    "average_order_value": "float64", "probability_alive": "float64", "expected_purchases": "float64",
    "expected_average_value": "float64", "expected_value": "float64", "horizon_days": "int64", "bgnbd_r": "float64",
    "bgnbd_alpha": "float64", "bgnbd_a": "float64", "bgnbd_b": "float64", "model_version": "object",
    "as_of": "datetime64[us]",
}


def customer_clv_table(
    transactions: pd.DataFrame, as_of: str | date | datetime | pd.Timestamp, horizon_days: int = 365,
    min_repeat_buyers: int = DEFAULT_MIN_REPEAT_BUYERS,
) -> tuple[pd.DataFrame, str | None]:
    """customer_clv for the warehouse: (table, None), or, when there is too little history to fit
    the models, (an empty table with the same typed columns, the reason). A build on a young
    warehouse then gets no lifetime values rather than a failed build or made-up ones."""
    try:
        return customer_clv(transactions, as_of, horizon_days, min_repeat_buyers), None
    except InsufficientData as exc:
        empty = pd.DataFrame({column: pd.Series(dtype=_EMPTY_DTYPES[column]) for column in CLV_COLUMNS})
        return empty, str(exc)


def clv_score_frame(clv: pd.DataFrame) -> pd.DataFrame:
    """The lifetime value rows of customer_scores: score = expected_value over the horizon."""
    return pd.DataFrame({
        "customer_id": clv["customer_id"].astype(str),
        "model_name": CLV_SCORE_MODEL_NAME,
        "model_version": clv["model_version"].astype(str),
        "score": clv["expected_value"].astype("float64"),
        "features_as_of": clv["as_of"],
    })
