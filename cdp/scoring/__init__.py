"""Scoring library: one code path for every warehouse.

On DuckDB the dbt Python models in python_models/ call these functions; on Postgres (which
runs no dbt Python models) the `cdp score` command calls the same functions.
"""

from cdp.scoring.rfm import RFM_MODEL_NAME, RFM_MODEL_VERSION, rfm_scores

__all__ = ["RFM_MODEL_NAME", "RFM_MODEL_VERSION", "rfm_scores"]
