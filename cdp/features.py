"""Behavioural features as of any moment, for training without leakage.

customer_features (the mart) holds today's features. Scoring needs the same features as of a
past cutoff, labelled by what happened after it: `features_as_of` compiles the very macro the
mart uses (macros/features/customer_features.sql) with another cutoff and runs it, so training
and scoring features cannot drift apart.
"""

from __future__ import annotations

import re

import pyarrow as pa

from cdp.dbt_runner import run_dbt
from cdp.warehouse import ConfigError, Target, connect

AS_OF_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}(:\d{2})?)?$")
# compile runs with its own artefact folder so the build's parse cache is left alone
TARGET_PATH = "target/features"


def features_as_of_sql(target: Target, as_of: str) -> str:
    """SQL selecting customer_features as of `as_of` (UTC, 'YYYY-MM-DD[ HH:MM[:SS]]')."""
    if not AS_OF_PATTERN.match(as_of):
        raise ConfigError(f"features as of {as_of!r}: write a UTC moment as 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM:SS'")
    inline = "{{ cdp.customer_features_as_of(cdp.utc_moment('" + as_of + "', 'features as of')) }}"
    completed = run_dbt(["--quiet", "compile", "--inline", inline], target=target, capture=True,
                        target_path=TARGET_PATH)
    sql = completed.stdout.strip()
    if not sql.lower().startswith("with"):
        raise ConfigError(f"features as of {as_of}: dbt compile printed no SQL:\n{completed.stdout[-2000:]}")
    return sql


def features_as_of(target: Target, as_of: str) -> pa.Table:
    """customer_features as of `as_of`, computed from the events before it only."""
    sql = features_as_of_sql(target, as_of)
    warehouse = connect(target, read_only=target.type == "duckdb")
    try:
        return warehouse.query_arrow(sql)
    finally:
        warehouse.close()
