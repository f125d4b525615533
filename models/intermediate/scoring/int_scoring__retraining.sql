{#-
    Whether this build retrains the churn and purchase propensity models (one row, with the
    reason). The models are retrained on a schedule, not every build: the kept models
    (model_evaluations of the previous build) score until the reference moment has moved
    var scoring_retrain_days past the one they were trained at. Retrained also on
    --full-refresh, when no kept model exists, when a kept model was not fitted (too few
    labels then; maybe enough now), when the label window changed, when the reference moment
    moved back (the data lost its latest days) and every build when scoring_retrain_days is 0.

    A build that does not retrain keeps int_scoring__features_at_training,
    int_scoring__features_at_holdout, int_scoring__training_examples and model_evaluations
    as they are (the examples of customers who asked to be deleted aside), so an incremental
    build spends nothing on training. The kept table is read where dbt does not manage it
    (adapter.get_relation): on DuckDB a Python model writes it, on Postgres `cdp score`.
-#}
{%- set retrain_days = var('scoring_retrain_days', 7) -%}
{%- if retrain_days is not number or retrain_days < 0 -%}
    {{ exceptions.raise_compiler_error("dbt_project.yml vars: scoring_retrain_days '" ~ retrain_days
        ~ "' is not a whole number of days >= 0") }}
{%- endif -%}
{%- set kept = adapter.get_relation(database=target.database, schema=target.schema ~ '_marts',
                                    identifier='model_evaluations') if execute else none -%}
{%- set kept_rows = kept if kept is not none else '(' ~ cdp.empty_select([
    ['evaluated_at', dbt.type_timestamp()],
    ['label_window_days', dbt.type_bigint()],
    ['status', dbt.type_string()],
]) ~ ')' -%}

with cutoffs as (

    select * from {{ ref('int_scoring__cutoffs') }}

),

kept as (

    select
        max(evaluated_at) as trained_reference_at,
        max(label_window_days) as trained_label_window_days,
        count(*) as kept_models,
        count(case when status <> 'ok' then 1 end) as unfitted_models
    from {{ kept_rows }} as kept_rows

),

decided as (

    select
        cutoffs.reference_at,
        kept.trained_reference_at,
        cast({{ retrain_days }} as {{ dbt.type_bigint() }}) as retrain_every_days,
        case
            when {{ 'true' if flags.FULL_REFRESH else 'false' }} then 'full_refresh'
            when kept.kept_models = 0 or kept.trained_reference_at is null then 'no_kept_models'
            when kept.unfitted_models > 0 then 'kept_model_not_fitted'
            when kept.trained_label_window_days <> cutoffs.label_window_days then 'label_window_changed'
            when cutoffs.reference_at < kept.trained_reference_at then 'reference_moved_back'
            when {{ retrain_days }} = 0 then 'every_build'
            when cutoffs.reference_at >= {{ dbt.dateadd('day', retrain_days, 'kept.trained_reference_at') }}
                then 'schedule_due'
        end as retrain_reason
    from cutoffs
    cross join kept

)

select
    reference_at,
    trained_reference_at,
    retrain_every_days,
    retrain_reason is not null as retrain,
    coalesce(retrain_reason, 'kept_models_current') as reason
from decided
