"""Score the resolved customers of the current build against the generator's ground truth.

Pairwise: every pair of records that share a customer is a predicted match, every pair of
records of the same true person a true match. Counted per (customer, person) cell, so it
costs one GROUP BY however many records there are.

Recall ceiling: many true pairs cannot be found by any method, such as a visit on a browser
that never logs in, or a cash sale paid with a card seen nowhere else. An oracle that knows
which values are personal links two records of one person when a chain of shared
identifier values joins them, and links every two person records (name, address...) of one
person, as a perfect matcher would. The share of true pairs it finds bounds the recall of
any resolver on the same records.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass

from cdp.warehouse import ConfigError, Warehouse, relation_schema

TRUTH_SCHEMA = "raw_truth"
# Identifier types that say nothing about who someone is by themselves: a record carrying only
# these is an anonymous visit, linkable only if the same browser or device later identifies.
ANONYMOUS_TYPES = ("anonymous_id", "device_id", "advertising_id", "click_id", "person_profile")


@dataclass
class IdentityScores:
    truth_records: int
    records_evaluated: int
    coverage: float
    customers: int
    persons: int
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    pairwise_precision: float
    pairwise_recall: float
    pairwise_f1: float
    over_merge_rate: float
    under_merge_rate: float
    recall_ceiling: float = 0.0
    seconds: float = 0.0
    known: IdentityScores | None = None

    def to_json(self) -> str:
        """One JSON object; precision/recall/f1 are the pairwise figures under their short names.
        `known` repeats the scores over the records that carry a known (non-anonymous) identifier."""
        fields = asdict(self)
        short = {"precision": self.pairwise_precision, "recall": self.pairwise_recall, "f1": self.pairwise_f1}
        if self.known is not None:
            fields["known"] = {"precision": self.known.pairwise_precision, "recall": self.known.pairwise_recall,
                               "f1": self.known.pairwise_f1, **{k: v for k, v in asdict(self.known).items()
                                                                if k != "known"}}
        return json.dumps({**short, **fields})


def _ratio(num: float, den: float) -> float:
    return round(num / den, 6) if den else 0.0


def evaluate_identity(warehouse: Warehouse, with_known: bool = True) -> IdentityScores:
    """Score all records; with_known also scores the records that carry a known identifier."""
    started = time.monotonic()
    scores = _evaluate(warehouse, known_only=False)
    if with_known:
        scores.known = _evaluate(warehouse, known_only=True)
    scores.seconds = round(time.monotonic() - started, 3)
    return scores


def _evaluate(warehouse: Warehouse, known_only: bool) -> IdentityScores:
    intermediate = relation_schema(warehouse.target, "intermediate")
    if not warehouse.table_exists(TRUTH_SCHEMA, "record_persons"):
        raise ConfigError(f"{TRUTH_SCHEMA}.record_persons is missing: generate data with `cdp generate` first")
    resolved = "int_identity__records_resolved"
    if not warehouse.table_exists(intermediate, resolved):
        raise ConfigError(f"{intermediate}.{resolved} is missing: build the project with `cdp build` first")
    anonymous = ", ".join(f"'{t}'" for t in ANONYMOUS_TYPES)
    known_filter = f"""
            where exists (
                select 1 from {intermediate}.int_identity__record_identifiers as ids
                where ids.source_table = truth_all.source_table and ids.record_id = truth_all.record_id
                    and ids.identifier_type not in ({anonymous})
            )""" if known_only else ""
    truth_ctes = f"""
        with truth_all as (
            select source_name || '.' || table_name as source_table, record_id, person_id
            from {TRUTH_SCHEMA}.record_persons
        ),
        truth as (
            select * from truth_all{known_filter}
        ),"""
    sql = f"""{truth_ctes}
        joined as (
            select resolved.customer_id, truth.person_id
            from {intermediate}.{resolved} as resolved
            inner join truth
                on resolved.source_table = truth.source_table
                and resolved.record_id = truth.record_id
        ),
        cells as (
            select customer_id, person_id, cast(count(*) as bigint) as n
            from joined group by customer_id, person_id
        ),
        by_customer as (
            select customer_id, sum(n) as n, count(*) as persons from cells group by customer_id
        ),
        by_person as (
            select person_id, sum(n) as n, count(*) as customers from cells group by person_id
        )
        select
            (select count(*) from truth) as truth_records,
            (select coalesce(sum(n), 0) from cells) as records_evaluated,
            (select count(*) from by_customer) as customers,
            (select count(*) from by_person) as persons,
            (select coalesce(sum(n * (n - 1) / 2), 0) from by_person) as true_pairs,
            (select coalesce(sum(n * (n - 1) / 2), 0) from by_customer) as predicted_pairs,
            (select coalesce(sum(n * (n - 1) / 2), 0) from cells) as correct_pairs,
            (select count(*) from by_customer where persons > 1) as over_merged_customers,
            (select count(*) from by_person where customers > 1) as split_persons
    """
    row = warehouse.query(sql)[0]
    (truth_records, evaluated, customers, persons, true_pairs, predicted_pairs, correct_pairs,
     over_merged, split_persons) = (int(v) for v in row)
    precision = _ratio(correct_pairs, predicted_pairs)
    recall = _ratio(correct_pairs, true_pairs)
    f1 = round(2 * precision * recall / (precision + recall), 6) if precision + recall else 0.0
    return IdentityScores(
        truth_records=truth_records,
        records_evaluated=evaluated,
        coverage=_ratio(evaluated, truth_records),
        customers=customers,
        persons=persons,
        true_pairs=true_pairs,
        predicted_pairs=predicted_pairs,
        correct_pairs=correct_pairs,
        pairwise_precision=precision,
        pairwise_recall=recall,
        pairwise_f1=f1,
        over_merge_rate=_ratio(over_merged, customers),
        under_merge_rate=_ratio(split_persons, persons),
        recall_ceiling=_ratio(_linkable_pairs(warehouse, truth_ctes, intermediate, resolved), true_pairs),
    )


def _linkable_pairs(warehouse: Warehouse, truth_ctes: str, intermediate: str, resolved: str) -> int:
    """True pairs the oracle of the module docstring links: components of the graph whose nodes
    are the evaluated records and the (person, identifier value) pairs they carry, with every
    person record of a person sharing one node."""
    import numpy as np
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    edges = warehouse.query_arrow(f"""{truth_ctes}
        records as (
            select resolved.source_table, resolved.record_id, truth.person_id,
                dense_rank() over (order by resolved.source_table, resolved.record_id) - 1 as record_index
            from {intermediate}.{resolved} as resolved
            inner join truth
                on resolved.source_table = truth.source_table
                and resolved.record_id = truth.record_id
        ),
        evidence as (
            select distinct
                records.record_index,
                records.person_id,
                ids.identifier_type,
                case when ids.identifier_type = 'person_profile' then '*' else ids.identifier_value end as value
            from records
            inner join {intermediate}.int_identity__record_identifiers as ids
                on records.source_table = ids.source_table
                and records.record_id = ids.record_id
        )
        select
            record_index,
            dense_rank() over (order by person_id, identifier_type, value) - 1 as value_index,
            (select count(*) from records) as record_count
        from evidence
    """)
    if edges.num_rows == 0:
        return 0
    records = int(edges.column("record_count")[0].as_py())
    left = edges.column("record_index").to_numpy().astype(np.int64)
    right = edges.column("value_index").to_numpy().astype(np.int64) + records
    nodes = int(right.max()) + 1
    graph = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(nodes, nodes))
    _, labels = connected_components(graph, directed=False)
    sizes = np.bincount(labels[:records]).astype(np.int64)
    return int((sizes * (sizes - 1) // 2).sum())
