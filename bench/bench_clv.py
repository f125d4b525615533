"""Benchmark the CLV models: ours against lifetimes on CDNOW, and customer_clv on a million customers.

    python bench/bench_clv.py [--repeats 5] [--customers 1000000] [--seed 11]

1. Fits BG/NBD + Gamma-Gamma on the full CDNOW log (23,570 customers, calibrated to 1997-09-30) with
   cdp.scoring.clv and with lifetimes (BetaGeoFitter, GammaGammaFitter) in the same process, --repeats
   times each, from the same per-customer summary; reports the median seconds of each, the ratio
   ours/lifetimes and both parameter sets.
2. Generates a synthetic transaction log of --customers customers by simulating BG/NBD purchasing and
   Gamma-Gamma spend with numpy, and times customer_clv on it (summary, both fits, scores), with peak RSS.

Prints a short summary, then one JSON object as the last line.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from cdp.scoring.clv import customer_clv, fit_bgnbd, fit_gamma_gamma, rfm_summary  # noqa: E402

CALIBRATION_END = "1997-09-30"


def cdnow_summary() -> pd.DataFrame:
    """The full CDNOW log, shipped in the lifetimes wheel, summarised to (x, t_x, T, monetary value)."""
    import lifetimes

    path = Path(lifetimes.__file__).parent / "datasets" / "CDNOW_master.txt"
    log = pd.read_csv(path, sep=r"\s+", dtype={"customer_id": str, "date": str})
    return rfm_summary(log, "customer_id", "date", "dollar_value", CALIBRATION_END, date_format="%Y%m%d")


def _median_seconds(run: Any, repeats: int) -> tuple[float, Any]:
    """Median wall time of run() over repeats, and its last result."""
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def compare_on_cdnow(repeats: int) -> dict[str, Any]:
    """Fit both models with ours and with lifetimes on the same summary; time and parameters of each."""
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    summary = cdnow_summary()
    x = summary["frequency"].to_numpy(dtype="float64")
    t_x, big_t, m = summary["recency"].to_numpy(), summary["T"].to_numpy(), summary["monetary_value"].to_numpy()
    spenders = (x > 0) & (m > 0)

    def ours() -> tuple[Any, Any]:
        return fit_bgnbd(x, t_x, big_t), fit_gamma_gamma(x, m)

    def theirs() -> tuple[Any, Any]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return (BetaGeoFitter().fit(x, t_x, big_t),
                    GammaGammaFitter().fit(x[spenders], m[spenders]))

    ours_seconds, (bgnbd, spend) = _median_seconds(ours, repeats)
    theirs_seconds, (bg, gg) = _median_seconds(theirs, repeats)
    return {
        "cdnow_customers": len(summary), "repeats": repeats,
        "ours_seconds": round(ours_seconds, 4), "lifetimes_seconds": round(theirs_seconds, 4),
        "ratio_ours_to_lifetimes": round(ours_seconds / theirs_seconds, 4),
        "ours_params": {"r": bgnbd.r, "alpha": bgnbd.alpha, "a": bgnbd.a, "b": bgnbd.b,
                        "log_likelihood": bgnbd.log_likelihood, "p": spend.p, "q": spend.q, "gamma": spend.gamma},
        "lifetimes_params": {"r": float(bg.params_["r"]), "alpha": float(bg.params_["alpha"]),
                             "a": float(bg.params_["a"]), "b": float(bg.params_["b"]),
                             "p": float(gg.params_["p"]), "q": float(gg.params_["q"]),
                             "gamma": float(gg.params_["v"])},
    }


def synthetic_log(customers: int, seed: int, as_of: pd.Timestamp, years: float = 2.0) -> pd.DataFrame:
    """customer_id, ordered_at, revenue for customers who follow BG/NBD and Gamma-Gamma.

    Each customer's first order falls uniformly in the `years` before as_of; while alive they buy at a
    weekly Poisson rate ~ Gamma(0.3, 1/5) and drop out after each repeat purchase with probability ~ Beta(0.8, 2.5);
    a customer's orders average nu^-1 * 6 with nu ~ Gamma(3.5, 1/15). Simulated purchase by purchase over
    the customers still buying, so memory stays a few arrays of the log's length.
    """
    rng = np.random.default_rng(seed)
    span_weeks = years * 52.18
    rate = rng.gamma(0.3, 1.0 / 5.0, customers)
    dropout = rng.beta(0.8, 2.5, customers)
    nu = rng.gamma(3.5, 1.0 / 15.0, customers)
    first = rng.uniform(0.0, span_weeks, customers)  # weeks after the start of the window
    ids, weeks = [np.arange(customers)], [first]
    active = np.arange(customers)
    clock = first.copy()
    while active.size:
        clock = clock + rng.exponential(1.0, active.size) / rate[active]
        inside = clock < span_weeks
        active, clock = active[inside], clock[inside]
        ids.append(active)
        weeks.append(clock)
        alive = rng.random(active.size) >= dropout[active]  # dropout comes after a repeat purchase
        active, clock = active[alive], clock[alive]
    customer = np.concatenate(ids)
    week = np.concatenate(weeks)
    start = as_of - pd.Timedelta(weeks=span_weeks)
    ordered_at = start.to_datetime64() + (week * 7 * 86400).astype("timedelta64[s]")
    revenue = np.round(rng.gamma(6.0, 1.0, customer.size) / nu[customer], 2)
    return pd.DataFrame({"customer_id": customer, "ordered_at": ordered_at, "revenue": revenue})


def time_customer_clv(customers: int, seed: int) -> dict[str, Any]:
    """Generate the synthetic log and time customer_clv on it."""
    as_of = pd.Timestamp("2026-10-31")
    started = time.perf_counter()
    log = synthetic_log(customers, seed, as_of)
    generate_seconds = time.perf_counter() - started
    started = time.perf_counter()
    scores = customer_clv(log, as_of=as_of, horizon_days=365)
    seconds = time.perf_counter() - started
    return {
        "synthetic_customers": customers, "synthetic_orders": len(log), "generate_seconds": round(generate_seconds, 2),
        "customer_clv_seconds": round(seconds, 2), "scored_customers": len(scores),
        "synthetic_fit": {k: round(float(scores[c].iloc[0]), 4) for k, c in
                          (("r", "bgnbd_r"), ("alpha", "bgnbd_alpha"), ("a", "bgnbd_a"), ("b", "bgnbd_b"))},
        "mean_expected_value": round(float(scores["expected_value"].mean()), 4),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    cdnow = compare_on_cdnow(args.repeats)
    print(f"CDNOW full log ({cdnow['cdnow_customers']:,} customers), median of {args.repeats}: ours "
          f"{cdnow['ours_seconds']:.3f} s, lifetimes {cdnow['lifetimes_seconds']:.3f} s, "
          f"ratio {cdnow['ratio_ours_to_lifetimes']:.3f}")
    synthetic = time_customer_clv(args.customers, args.seed)
    print(f"customer_clv on {synthetic['synthetic_customers']:,} customers ({synthetic['synthetic_orders']:,} orders): "
          f"{synthetic['customer_clv_seconds']:.1f} s, peak RSS {synthetic['peak_rss_mb']:,} MB")
    print(json.dumps({**cdnow, **synthetic}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
