"""BG/NBD + Gamma-Gamma customer lifetime value: published CDNOW figures, lifetimes agreement, CLI, errors.

Fast: no dbt, no warehouse. The CDNOW logs come from the lifetimes wheel (a dev dependency), read by path.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy.special import hyp2f1

from cdp.cli import main
from cdp.clv_eval import eval_clv
from cdp.scoring.clv import (
    CLV_COLUMNS,
    BGNBDFit,
    InsufficientData,
    bgnbd_log_likelihood,
    customer_clv,
    expected_average_value,
    expected_purchases,
    expected_purchases_new,
    fit_bgnbd,
    fit_gamma_gamma,
    probability_alive,
    rfm_summary,
)
from cdp.warehouse import ConfigError

lifetimes = pytest.importorskip("lifetimes")
DATASETS = Path(lifetimes.__file__).parent / "datasets"
SAMPLE = DATASETS / "CDNOW_sample.txt"  # no header: master id, sample id, yyyymmdd, cds, dollars
MASTER = DATASETS / "CDNOW_master.txt"  # header: customer_id date number_of_cds dollar_value
CALIBRATION_END = "1997-09-30"


@pytest.fixture(scope="module")
def sample_summary() -> pd.DataFrame:
    log = pd.read_csv(SAMPLE, sep=r"\s+", header=None, names=["master_id", "customer_id", "date", "cds", "dollars"],
                      dtype={"master_id": str, "date": str})
    return rfm_summary(log, "customer_id", "date", "dollars", CALIBRATION_END, "1998-06-30", date_format="%Y%m%d")


@pytest.fixture(scope="module")
def sample_fit(sample_summary: pd.DataFrame) -> BGNBDFit:
    s = sample_summary
    return fit_bgnbd(s["frequency"], s["recency"], s["T"])


# ---------------------------------------------------------------------------------------------
# Published figures (Fader, Hardie and Lee 2005; Fader and Hardie 2013)
# ---------------------------------------------------------------------------------------------


def test_sample_summary_matches_the_published_calibration_data(sample_summary: pd.DataFrame) -> None:
    published = pd.read_csv(DATASETS / "cdnow_customers_summary_with_transactions.csv")
    assert len(sample_summary) == 2357
    assert (sample_summary["frequency"] > 0).sum() == 946
    np.testing.assert_array_equal(sample_summary["frequency"].to_numpy(), published["x"].to_numpy())
    # The published file rounds to 2 decimals.
    np.testing.assert_allclose(sample_summary["recency"], published["t_x"], atol=0.006)
    np.testing.assert_allclose(sample_summary["T"], published["T"], atol=0.006)
    np.testing.assert_allclose(sample_summary["monetary_value"], published["zbar"], atol=0.006)
    assert sample_summary["holdout_duration"].iloc[0] == pytest.approx(39.0)


def test_bgnbd_reproduces_the_published_cdnow_fit(sample_fit: BGNBDFit) -> None:
    assert sample_fit.converged and sample_fit.n == 2357
    assert sample_fit.r == pytest.approx(0.243, abs=0.002)
    assert sample_fit.alpha == pytest.approx(4.414, abs=0.002)
    assert sample_fit.a == pytest.approx(0.793, abs=0.002)
    assert sample_fit.b == pytest.approx(2.426, abs=0.002)
    assert sample_fit.log_likelihood == pytest.approx(-9582.4, abs=0.1)


def test_log_likelihood_function_agrees_with_the_fit(sample_fit: BGNBDFit, sample_summary: pd.DataFrame) -> None:
    s = sample_summary
    ll = bgnbd_log_likelihood(sample_fit.r, sample_fit.alpha, sample_fit.a, sample_fit.b,
                              s["frequency"], s["recency"], s["T"])
    assert ll == pytest.approx(sample_fit.log_likelihood, abs=1e-6)
    worse = bgnbd_log_likelihood(sample_fit.r * 1.1, sample_fit.alpha, sample_fit.a, sample_fit.b,
                                 s["frequency"], s["recency"], s["T"])
    assert worse < ll


def test_gamma_gamma_reproduces_the_published_cdnow_fit(sample_summary: pd.DataFrame) -> None:
    fit = fit_gamma_gamma(sample_summary["frequency"], sample_summary["monetary_value"])
    assert fit.n == 946 and fit.excluded == 0
    assert fit.p == pytest.approx(6.25, abs=0.02)
    assert fit.q == pytest.approx(3.74, abs=0.02)
    assert fit.gamma == pytest.approx(15.44, abs=0.02)


def test_full_log_holdout_forecast_within_15_percent() -> None:
    # Seen: actual 19,684 repeat purchase days in the 39 holdout weeks, conditional forecast 16,874
    # (unconditional 16,849): -14.3%.
    result = eval_clv(MASTER, "customer_id", "date", "dollar_value", CALIBRATION_END, date_format="%Y%m%d")
    assert result["customers"] == 23570
    assert result["observation_end"] == "1998-06-30"
    assert result["holdout_weeks"] == pytest.approx(39.0)
    assert result["zero_spend_repeat_buyers"] == 1  # CDNOW's zero-dollar rows
    assert abs(result["holdout_error"]) < 0.15
    assert result["holdout_forecast_unconditional"] == pytest.approx(result["holdout_forecast"], rel=0.01)


# ---------------------------------------------------------------------------------------------
# Agreement with lifetimes
# ---------------------------------------------------------------------------------------------


def test_agrees_with_lifetimes(sample_fit: BGNBDFit, sample_summary: pd.DataFrame) -> None:
    s = sample_summary
    x, t_x, big_t, m = (s[c].to_numpy(dtype="float64") for c in ("frequency", "recency", "T", "monetary_value"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bg = lifetimes.BetaGeoFitter().fit(x, t_x, big_t)
        gg = lifetimes.GammaGammaFitter().fit(x[x > 0], m[x > 0])
    for name in ("r", "alpha", "a", "b"):
        assert getattr(sample_fit, name) == pytest.approx(bg.params_[name], rel=1e-4)
    ours_gg = fit_gamma_gamma(x, m)
    for ours, theirs in ((ours_gg.p, "p"), (ours_gg.q, "q"), (ours_gg.gamma, "v")):
        assert ours == pytest.approx(gg.params_[theirs], rel=1e-4)
    # Score with lifetimes' own parameters so only the formulas are compared.
    same = BGNBDFit(r=bg.params_["r"], alpha=bg.params_["alpha"], a=bg.params_["a"], b=bg.params_["b"],
                    log_likelihood=0.0, n=len(x), converged=True)
    picks = np.r_[0:40, np.flatnonzero(x >= 10)[:10]]
    for horizon in (1.0, 39.0, 52.0):
        theirs = bg.conditional_expected_number_of_purchases_up_to_time(horizon, x[picks], t_x[picks], big_t[picks])
        np.testing.assert_allclose(expected_purchases(same, horizon, x[picks], t_x[picks], big_t[picks]),
                                   theirs, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(probability_alive(same, x[picks], t_x[picks], big_t[picks]),
                               bg.conditional_probability_alive(x[picks], t_x[picks], big_t[picks]), rtol=1e-8)
    weeks = np.array([1.0, 10.0, 39.0, 78.0])
    np.testing.assert_allclose(expected_purchases_new(same, weeks), bg.expected_number_of_purchases_up_to_time(weeks),
                               rtol=1e-6)
    np.testing.assert_allclose(expected_average_value(ours_gg, x[picks], m[picks]),
                               gg.conditional_expected_average_profit(pd.Series(x[picks]), pd.Series(m[picks])),
                               rtol=1e-3)


def _direct_form(fit: BGNBDFit, t: float, x: float, t_x: float, big_t: float) -> float:
    """FHL 2005 equation 10 as printed, with scipy's hyp2f1: the reference where it does not overflow."""
    r, alpha, a, b = fit.r, fit.alpha, fit.a, fit.b
    z = t / (alpha + big_t + t)
    head = (a + b + x - 1) / (a - 1) * (1 - ((alpha + big_t) / (alpha + big_t + t)) ** (r + x)
                                        * hyp2f1(r + x, b + x, a + b + x - 1, z))
    return head / (1 + (x > 0) * (a / (b + x - 1)) * ((alpha + big_t) / (alpha + t_x)) ** (r + x))


def test_expected_purchases_matches_the_printed_formula_and_survives_where_it_overflows(sample_fit: BGNBDFit) -> None:
    cases = ((52, 300, 39, 39), (52, 300, 38, 39), (52, 5, 1, 39), (520, 40, 39, 39), (39, 2, 30.43, 38.86))
    for t, x, t_x, big_t in cases:
        assert float(expected_purchases(sample_fit, t, x, t_x, big_t)) == pytest.approx(
            _direct_form(sample_fit, t, x, t_x, big_t), rel=1e-9)
    with np.errstate(all="ignore"):
        assert not np.isfinite(_direct_form(sample_fit, 52.0, 3000, 39.0, 39.0))
    heavy = float(expected_purchases(sample_fit, 52.0, 3000, 39.0, 39.0))
    assert 1000 < heavy < 52 * 3000 / 39  # about 77 a week and still buying
    values = expected_purchases(sample_fit, [0.0, 52.0], [0, 0], [0, 0.0], [0, 0.0])
    assert values[0] == 0.0
    assert values[1] == pytest.approx(float(expected_purchases_new(sample_fit, 52.0)))
    assert probability_alive(sample_fit, 0, 0, 39.0) == 1.0


# ---------------------------------------------------------------------------------------------
# The warehouse entry point
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_orders() -> pd.DataFrame:
    log = pd.read_csv(SAMPLE, sep=r"\s+", header=None, names=["master_id", "sample_id", "date", "cds", "revenue"],
                      dtype={"master_id": str, "date": str})
    rng = np.random.default_rng(3)
    ordered_at = pd.to_datetime(log["date"], format="%Y%m%d") + pd.to_timedelta(rng.integers(0, 86400, len(log)),
                                                                                unit="s")
    return pd.DataFrame({"customer_id": "c" + log["master_id"], "ordered_at": ordered_at, "revenue": log["revenue"]})


def test_customer_clv_columns_and_determinism(sample_orders: pd.DataFrame) -> None:
    scores = customer_clv(sample_orders, as_of="1997-09-30", horizon_days=365)
    assert list(scores.columns) == list(CLV_COLUMNS)
    assert len(scores) == 2357 and scores["customer_id"].is_unique and scores["customer_id"].is_monotonic_increasing
    assert scores["bgnbd_r"].iloc[0] == pytest.approx(0.2426, abs=0.001)
    assert ((scores["probability_alive"] > 0) & (scores["probability_alive"] <= 1)).all()
    np.testing.assert_allclose(scores["expected_value"],
                               scores["expected_purchases"] * scores["expected_average_value"])
    assert scores["average_order_value"].isna().sum() == 2357 - 946
    assert (scores["horizon_days"] == 365).all() and (scores["as_of"] == pd.Timestamp("1997-09-30")).all()
    shuffled = sample_orders.sample(frac=1.0, random_state=1).reset_index(drop=True)
    pd.testing.assert_frame_equal(customer_clv(shuffled, as_of="1997-09-30", horizon_days=365), scores)


def test_customer_clv_ignores_later_orders_and_handles_zero_spend(sample_orders: pd.DataFrame) -> None:
    base = customer_clv(sample_orders, as_of="1997-09-30")
    zero = pd.DataFrame({"customer_id": ["zz", "zz"], "ordered_at": pd.to_datetime(["1997-03-01", "1997-04-01"]),
                         "revenue": [10.0, 0.0]})
    later = pd.DataFrame({"customer_id": ["c00004"], "ordered_at": pd.to_datetime(["1998-01-01"]), "revenue": [99.0]})
    scores = customer_clv(pd.concat([sample_orders, zero, later], ignore_index=True), as_of="1997-09-30")
    row = scores.set_index("customer_id").loc["zz"]
    assert row["frequency"] == 1 and row["average_order_value"] == 0.0
    population = scores.loc[scores["frequency"] == 0, "expected_average_value"].iloc[0]
    assert row["expected_average_value"] == pytest.approx(population)  # zero spend: the population mean
    pd.testing.assert_series_equal(scores.set_index("customer_id").loc["c00004", ["frequency", "recency_weeks"]],
                                   base.set_index("customer_id").loc["c00004", ["frequency", "recency_weeks"]])


def test_customer_clv_insufficient_data() -> None:
    orders = pd.DataFrame({"customer_id": ["a", "a", "b", "c"],
                           "ordered_at": pd.to_datetime(["2026-01-01", "2026-02-01", "2026-01-05", "2026-03-01"]),
                           "revenue": [10.0, 12.0, 5.0, 7.0]})
    with pytest.raises(InsufficientData, match=r"at least 30 repeat buyers.*got 1 \(1 repeat buyers among 3 customers"):
        customer_clv(orders, as_of="2026-06-30")


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------


def _log(**overrides: list) -> pd.DataFrame:
    columns = {"customer_id": ["a", "a", "b"], "ordered_at": ["2026-01-01", "2026-01-05", "2026-01-02"],
               "revenue": [1.0, 2.0, 3.0]}
    columns.update(overrides)
    return pd.DataFrame(columns)


@pytest.mark.parametrize(("frame", "message"), [
    (_log().drop(columns="revenue"), r"lack column\(s\) \['revenue'\]"),
    (_log(ordered_at=["2026-01-01", "not a date", "2026-01-02"]), r"'ordered_at'.*'not a date'"),
    (_log(revenue=[1.0, -2.0, 3.0]), r"'revenue' has a negative amount: -2.0"),
    (_log(revenue=[1.0, float("nan"), 3.0]), r"'revenue' has a missing or non-numeric amount: nan"),
    (_log(revenue=[1.0, "abc", 3.0]), r"'revenue' has a missing or non-numeric amount: 'abc'"),
    (_log(customer_id=["a", None, "b"]), r"'customer_id' has a missing customer id"),
])
def test_rfm_summary_bad_input(frame: pd.DataFrame, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rfm_summary(frame, "customer_id", "ordered_at", "revenue", "2026-02-01")


def test_fit_rejects_impossible_summaries() -> None:
    with pytest.raises(ValueError, match="recency must lie in"):
        fit_bgnbd([1, 2], [5.0, 1.0], [4.0, 4.0])
    with pytest.raises(ValueError, match="non-negative whole number"):
        fit_bgnbd([1.5], [1.0], [4.0])


def test_eval_clv_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"--amount-column 'dollars' is not a column"):
        eval_clv(MASTER, "customer_id", "date", "dollars", CALIBRATION_END)
    empty = tmp_path / "empty.csv"
    empty.write_text("customer_id,date,amount\n")
    with pytest.raises(ConfigError, match=r"empty.csv'.*no rows"):
        eval_clv(empty, "customer_id", "date", "amount", CALIBRATION_END)
    bad = tmp_path / "bad.csv"
    bad.write_text("customer_id,date,amount\n1,2026-01-01,5\n1,2026-01-09,-3\n")
    with pytest.raises(ConfigError, match=r"bad.csv'.*--amount-column 'amount' has a negative amount"):
        eval_clv(bad, "customer_id", "date", "amount", "2026-02-01")
    with pytest.raises(ConfigError, match="no such file"):
        eval_clv(tmp_path / "missing.csv", "customer_id", "date", "amount", "2026-02-01")


# ---------------------------------------------------------------------------------------------
# CLI end to end
# ---------------------------------------------------------------------------------------------


def test_cli_eval_clv_headerless_whitespace_file() -> None:
    result = CliRunner().invoke(main, [
        "eval-clv", "--transactions", str(SAMPLE), "--customer-column", "2", "--date-column", "3",
        "--amount-column", "5", "--calibration-end", CALIBRATION_END, "--date-format", "%Y%m%d",
    ])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) > 1
    summary = json.loads(lines[-1])
    assert {"r", "alpha", "a", "b", "log_likelihood", "p", "q", "gamma", "holdout_error"} <= set(summary)
    assert summary["r"] == pytest.approx(0.243, abs=0.002) and summary["gamma"] == pytest.approx(15.44, abs=0.02)
    assert summary["log_likelihood"] == pytest.approx(-9582.4, abs=0.1)
    assert summary["customers"] == 2357 and summary["repeat_buyers"] == 946
    assert summary["holdout_error"] is not None


def test_cli_eval_clv_parquet_without_holdout(tmp_path: Path) -> None:
    log = pd.read_csv(MASTER, sep=r"\s+", dtype={"customer_id": str, "date": str})
    log = log[log["date"] <= "19970930"].head(20000)
    path = tmp_path / "cdnow.parquet"
    log.to_parquet(path)
    result = CliRunner().invoke(main, [
        "eval-clv", "--transactions", str(path), "--customer-column", "customer_id", "--date-column", "date",
        "--amount-column", "dollar_value", "--calibration-end", CALIBRATION_END, "--date-format", "%Y%m%d",
    ])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["holdout_error"] is None and summary["observation_end"] is None


def test_cli_eval_clv_missing_column_is_a_config_error() -> None:
    result = CliRunner().invoke(main, [
        "eval-clv", "--transactions", str(MASTER), "--customer-column", "cust", "--date-column", "date",
        "--amount-column", "dollar_value", "--calibration-end", CALIBRATION_END,
    ])
    assert result.exit_code != 0
    assert isinstance(result.exception, ConfigError)
    assert "--customer-column 'cust'" in str(result.exception) and "CDNOW_master.txt" in str(result.exception)
