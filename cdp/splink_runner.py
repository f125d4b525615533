"""Splink 5 (DuckDB backend) on canonical person records: the yardstick `cdp eval-matching --vs-splink` uses.

The model mirrors cdp's matcher column for column: the same canonical columns, the same
blocking rules for predictions, the same comparison levels where Splink's library has them
(term frequencies on first and last name), the same probability threshold, and the same kind
of cleaning first (names lowercased without punctuation, postcodes uppercased alphanumerics,
phones as digits, email keys without plus tags). Training follows Splink's examples: the
prior from deterministic rules, u from seeded random sampling (as many pairs as cdp's matcher
samples), m by EM without term frequencies on two blocking rules that together estimate every
comparison. Seeded and single-connection, so a rerun gives the same clusters. Everything from
the input table to the clusters is timed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pyarrow as pa

CLEAN_TABLE = "person_records_clean"
# Derived blocking keys cdp's blocking rules may use, as SQL over the cleaned columns.
DERIVED_KEYS: dict[str, tuple[str, str]] = {
    "first_initial": ("first_name", "substr(first_name, 1, 1)"),
    "last_name_prefix": ("last_name", "substr(last_name, 1, 3)"),
    "birth_year": ("birth_date", "substr(birth_date, 1, 4)"),
    "email_local": ("email", "nullif(split_part(email, '@', 1), '')"),
    "phone_last7": ("phone", "right(phone, 7)"),
    "street_number": ("address_line", "nullif(regexp_extract(address_line, '^([0-9]+)', 1), '')"),
    "first_name_formal": ("first_name", "first_name"),
}
# EM training rules, in order of preference: names first, then date of birth, as in Splink's
# synthetic-persons example (its FEBRL examples train on date of birth and postcode, next in line).
# The first TRAINING_SESSIONS rules that give at least MIN_TRAINING_PAIRS pairs and converge are
# used, so every comparison is estimated at least once (a session cannot estimate what it blocks on).
TRAINING_RULES: list[list[str]] = [
    ["first_name", "last_name"], ["birth_date"], ["postcode"], ["email"], ["phone"], ["city"],
]
# Near-certain matches, for the prior (probability two random records match), with the share
# of all true matches they are assumed to find (Splink's FEBRL examples use 0.8 to 0.9).
DETERMINISTIC_RULES: list[list[str]] = [
    ["first_name", "last_name", "birth_date"], ["first_name", "last_name", "email"],
    ["first_name", "last_name", "phone"], ["first_name", "last_name", "address_line", "postcode"],
]
DETERMINISTIC_RECALL = 0.8
MIN_TRAINING_PAIRS = 200
TRAINING_SESSIONS = 2
# u from seeded random pairs: as many as cdp's matcher draws (all pairs among
# matching_u_sample_records records), and at least Splink's default of a million.
MIN_U_MAX_PAIRS = 1e6
# An EM block larger than this is sampled down to about this many pairs (Splink's max_pairs).
EM_MAX_PAIRS = 5e6
SEED = 42

_NULL_TOKENS = "'', 'null', 'none', 'nil', 'n/a', 'na', 'nan', 'undefined', 'unknown', '-', '--', '?'"


def default_u_max_pairs() -> float:
    """Pairs among matching_u_sample_records records (dbt_project.yml), at least MIN_U_MAX_PAIRS."""
    from cdp.contract import project_vars

    try:
        sample = int(project_vars().get("matching_u_sample_records") or 0)
    except (OSError, TypeError, ValueError):
        sample = 0
    return max(MIN_U_MAX_PAIRS, sample * (sample - 1) / 2)


def _clean_text(column: str) -> str:
    """Whitespace collapsed and trimmed; null for blanks and null tokens."""
    collapsed = f"regexp_replace(trim(cast({column} as varchar)), '\\s+', ' ', 'g')"
    return f"case when lower(trim(cast({column} as varchar))) in ({_NULL_TOKENS}) then null else {collapsed} end"


def _clean_name(column: str) -> str:
    stripped = f"regexp_replace(lower({_clean_text(column)}), '[^a-z\\-'' ]', '', 'g')"
    return f"nullif(trim(regexp_replace({stripped}, '\\s+', ' ', 'g')), '')"


def _clean_address(column: str) -> str:
    stripped = f"regexp_replace(lower({_clean_text(column)}), '[^a-z0-9 ]', ' ', 'g')"
    return f"nullif(trim(regexp_replace({stripped}, '\\s+', ' ', 'g')), '')"


def _clean_postcode(column: str) -> str:
    compact = f"upper(regexp_replace({_clean_text(column)}, '[^A-Za-z0-9]', '', 'g'))"
    return (f"case when regexp_full_match({compact}, '[0-9]{{9}}') then substr({compact}, 1, 5) "
            f"else nullif({compact}, '') end")


def _clean_phone(column: str) -> str:
    """Digits; an international 00 prefix and a North American leading 1 dropped; null when short."""
    digits = f"regexp_replace({_clean_text(column)}, '[^0-9]', '', 'g')"
    national = (f"case when {digits} like '00%' then substr({digits}, 3) "
                f"when length({digits}) = 11 and {digits} like '1%' then substr({digits}, 2) else {digits} end")
    return f"case when length({national}) between 7 and 15 then {national} end"


def _clean_email(column: str) -> str:
    """Lowercased address without spaces; plus tags dropped; gmail dots dropped; null when malformed."""
    lowered = f"lower(regexp_replace({_clean_text(column)}, '\\s', '', 'g'))"
    local = f"regexp_replace(split_part({lowered}, '@', 1), '\\+.*$', '')"
    domain = f"split_part({lowered}, '@', 2)"
    return (
        f"case when not regexp_full_match({lowered}, '[a-z0-9._%+''-]+@[a-z0-9-]+(\\.[a-z0-9-]+)*\\.[a-z]{{2,}}') "
        f"then null when {domain} in ('gmail.com', 'googlemail.com') then replace({local}, '.', '') || '@gmail.com' "
        f"else {local} || '@' || {domain} end"
    )


def _clean_birth_date(column: str) -> str:
    """YYYY-MM-DD when the text starts with one; otherwise the text as given."""
    text = _clean_text(column)
    return (f"case when regexp_matches({text}, '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') then substr({text}, 1, 10) "
            f"else {text} end")


CLEANERS = {
    "first_name": _clean_name, "last_name": _clean_name, "birth_date": _clean_birth_date,
    "address_line": _clean_address, "city": lambda c: f"lower({_clean_text(c)})", "postcode": _clean_postcode,
    "phone": _clean_phone, "email": _clean_email,
}


def cleaning_sql(columns: Sequence[str], source: str) -> str:
    selected = ",\n    ".join(f"{CLEANERS[name](name)} as {name}" for name in columns)
    return f"select cast(record_id as varchar) as record_id,\n    {selected}\nfrom {source}"


def comparisons(columns: Sequence[str]) -> list[Any]:
    """One Splink comparison per column, with cdp's levels (see macros/matching/comparisons.sql)."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    def custom(name: str, levels: list[Any]) -> Any:
        return cl.CustomComparison(
            comparison_levels=[cll.NullLevel(name), *levels, cll.ElseLevel()], output_column_name=name,
        )

    available = {
        "first_name": lambda: cl.NameComparison("first_name", jaro_winkler_thresholds=[0.92, 0.80]).configure(
            term_frequency_adjustments=True),
        "last_name": lambda: cl.NameComparison("last_name", jaro_winkler_thresholds=[0.92, 0.80]).configure(
            term_frequency_adjustments=True),
        "birth_date": lambda: custom("birth_date", [
            cll.ExactMatchLevel("birth_date"),
            cll.LevenshteinLevel("birth_date", 1),
            cll.LevenshteinLevel("birth_date", 2),
            cll.AbsoluteDateDifferenceLevel("birth_date", input_is_string=True, threshold=1, metric="year",
                                            datetime_format="%Y-%m-%d"),
        ]),
        "address_line": lambda: cl.JaroWinklerAtThresholds("address_line", [0.90, 0.75]),
        "city": lambda: cl.JaroWinklerAtThresholds("city", [0.88]),
        "postcode": lambda: custom("postcode", [
            cll.ExactMatchLevel("postcode"),
            cll.LevenshteinLevel("postcode", 1),
            cll.CustomLevel("substr(postcode_l, 1, 3) = substr(postcode_r, 1, 3)", "Same first 3 characters"),
        ]),
        "phone": lambda: custom("phone", [
            cll.ExactMatchLevel("phone"),
            cll.CustomLevel("right(phone_l, 7) = right(phone_r, 7)", "Same last 7 digits"),
            cll.LevenshteinLevel("phone", 2),
        ]),
        "email": lambda: cl.EmailComparison("email"),
    }
    return [available[name]() for name in columns]


def usable_rules(rules: Sequence[Sequence[str]], columns: Sequence[str]) -> list[list[str]]:
    """The rules whose every key (a canonical column or a derived key of one) is available."""
    def source(key: str) -> str:
        return DERIVED_KEYS[key][0] if key in DERIVED_KEYS else key

    return [list(rule) for rule in rules if rule and all(source(key) in columns for key in rule)]


def _block_on(rule: Sequence[str]) -> Any:
    from splink import block_on

    return block_on(*(_key_sql(key) for key in rule))


def _key_sql(key: str) -> str:
    return DERIVED_KEYS[key][1] if key in DERIVED_KEYS else key


def block_pairs(con: Any, rule: Sequence[str], table: str = CLEAN_TABLE) -> int:
    """Pairs a blocking rule yields on the cleaned table: sum of n*(n-1)/2 over its non-null keys."""
    keys = ", ".join(_key_sql(key) for key in rule)
    not_null = " and ".join(f"{_key_sql(key)} is not null" for key in rule)
    sql = (f"select coalesce(sum(n * (n - 1) / 2), 0) from "
           f"(select count(*) as n from {table} where {not_null} group by {keys})")
    return int(con.execute(sql).fetchall()[0][0])


def _as_arrow(records: Any) -> pa.Table:
    if isinstance(records, pa.Table):
        return records
    return pa.Table.from_pandas(records, preserve_index=False)


def _load_clean(con: Any, records: Any, columns: list[str]) -> None:
    table = _as_arrow(records)
    con.register("person_records_input", table.select(["record_id", *columns]))
    try:
        con.execute(f"create table {CLEAN_TABLE} as {cleaning_sql(columns, 'person_records_input')}")
    finally:
        con.unregister("person_records_input")


def _settings(columns: list[str], prediction_rules: list[list[str]]) -> Any:
    from splink import SettingsCreator

    return SettingsCreator(
        unique_id_column_name="record_id",
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[_block_on(rule) for rule in prediction_rules],
        comparisons=comparisons(columns),
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )


@contextmanager
def _zero_m_allowed() -> Iterator[None]:
    """Let EM estimate an m or u probability of 0 (a level seen only among non-matches).

    Splink 5.0 raises on such an estimate, which sparse columns produce routinely (on a block
    of equal names, birth dates that disagree belong to different people only). Splink itself
    clamps every m and u to 1e-300 when it turns them into match weights, as earlier versions
    did with a 0, so the check is lifted for the duration of training only.
    """
    from splink.internals import comparison_level

    check = getattr(comparison_level, "_validate_m_u_probability", None)
    if check is None:
        yield
        return
    comparison_level._validate_m_u_probability = lambda value, name, text: None
    try:
        yield
    finally:
        comparison_level._validate_m_u_probability = check


def _train_m(linker: Any, con: Any, columns: list[str], em_max_pairs: float | None) -> list[list[str]]:
    """EM sessions on the preferred training rules with enough pairs; returns the rules used."""
    from splink.internals.exceptions import SplinkException

    used: list[list[str]] = []
    for rule in usable_rules(TRAINING_RULES, columns):
        if len(used) == TRAINING_SESSIONS:
            break
        pairs = block_pairs(con, rule)
        if pairs < MIN_TRAINING_PAIRS:
            continue
        # A session that fails leaves the model half-changed (Splink narrows the model's
        # comparisons and prior before training): restore it and try the next rule.
        saved = linker._settings_obj.core_model_settings.copy()
        try:
            with _zero_m_allowed():
                linker.training.estimate_parameters_using_expectation_maximisation(
                    _block_on(rule), estimate_without_term_frequencies=True,
                    max_pairs=em_max_pairs if em_max_pairs is not None and pairs > em_max_pairs else None)
        except (SplinkException, ValueError) as exc:
            linker._settings_obj.core_model_settings = saved
            logging.getLogger(__name__).warning("Splink EM blocked on %s skipped: %s", rule, exc)
            continue
        used.append(rule)
    return used


def _clusters(linker: Any, threshold: float) -> tuple[dict[str, str], int]:
    predictions = linker.inference.predict(threshold_match_probability=threshold, warning_mode="never")
    clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=threshold)
    rows = clustered.as_duckdbpyrelation().select("record_id, cast(cluster_id as varchar) as c").to_arrow_table()
    matched = predictions.as_duckdbpyrelation().aggregate("count(*)").fetchall()[0][0]
    return dict(zip(rows["record_id"].to_pylist(), rows["c"].to_pylist(), strict=True)), int(matched)


def _check_columns(records: Any, columns: list[str]) -> list[str]:
    names = records.column_names if isinstance(records, pa.Table) else [str(c) for c in records.columns]
    unknown = [name for name in columns if name not in CLEANERS]
    if "record_id" not in names or unknown:
        raise ValueError(f"run_splink: needs record_id and canonical columns; unknown {unknown}, input has {names}")
    present = [name for name in columns if name in names]
    if not present:
        raise ValueError(f"run_splink: none of the columns {columns} is in the input ({names})")
    return present


def run_splink(
    records: Any,
    columns: list[str],
    blocking_rules: list[list[str]],
    threshold: float,
    *,
    seed: int = SEED,
    u_max_pairs: float | None = None,
    em_max_pairs: float | None = EM_MAX_PAIRS,
    log_level: int = logging.WARNING,
) -> dict[str, Any]:
    """Deduplicate `records` (a pyarrow Table or pandas DataFrame with record_id and `columns`) with Splink.

    Returns clusters (record_id -> cluster id, every record), seconds (input to clusters),
    matched_pairs (pairs at or above the threshold) and the rules and parameters used.
    """
    import duckdb
    from splink import DuckDBAPI, Linker

    started = time.monotonic()
    columns = _check_columns(records, columns)
    prediction_rules = usable_rules(blocking_rules, columns)
    if not prediction_rules:
        raise ValueError(f"run_splink: no blocking rule is usable with columns {columns}: {blocking_rules}")
    deterministic = usable_rules(DETERMINISTIC_RULES, columns) or prediction_rules
    con = duckdb.connect()
    try:
        _load_clean(con, records, columns)
        linker = Linker(DuckDBAPI(connection=con).register(CLEAN_TABLE), _settings(columns, prediction_rules),
                        log_level=log_level)
        linker.training.estimate_probability_two_random_records_match(
            [_block_on(rule) for rule in deterministic], recall=DETERMINISTIC_RECALL)
        u_pairs = u_max_pairs if u_max_pairs is not None else default_u_max_pairs()
        linker.training.estimate_u_using_random_sampling(max_pairs=u_pairs, seed=seed)
        training_rules = _train_m(linker, con, columns, em_max_pairs)
        clusters, matched_pairs = _clusters(linker, threshold)
        prior = linker._settings_obj._probability_two_random_records_match
    finally:
        con.close()
    return {
        "clusters": clusters,
        "seconds": round(time.monotonic() - started, 3),
        "matched_pairs": matched_pairs,
        "columns": columns,
        "blocking_rules": prediction_rules,
        "training_rules": training_rules,
        "probability_two_random_records_match": prior,
        "u_max_pairs": u_pairs,
        "threshold": threshold,
    }
