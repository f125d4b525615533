"""Synthetic data generator: a world of customers written to every raw table of the contract.

`generate(customers, seed, target)` (re)creates the raw source tables declared in
models/staging/*/_*__sources.yml and a hidden ground-truth schema `raw_truth` that says which
person every keyed raw record belongs to.
"""

from cdp.generate.run import DEFAULT_END_DATE, GenerateSummary, generate
from cdp.generate.writer import ContractError

__all__ = ["DEFAULT_END_DATE", "ContractError", "GenerateSummary", "generate"]
