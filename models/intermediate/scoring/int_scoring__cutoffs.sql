{#-
    The moments the predictive models train, evaluate and score at (one row).

    reference_at: var features_as_of when set, otherwise midnight (UTC) after the day of the
    latest event in customer_events. It is read from the data, not the clock, so rebuilds
    over the same data agree. Scores describe this moment.
    holdout_cutoff_at = reference_at - window; training_cutoff_at = reference_at - 2 * window,
    where window is var scoring_label_window_days. clv_horizon_days: the lifetime value
    horizon (var clv_horizon_days), here so every warehouse's scoring reads the same value.
-#}
{%- set window_days = var('scoring_label_window_days', 90) | int -%}

with customer_events as (

    select * from {{ ref('customer_events') }}

),

reference as (

    {%- if var('features_as_of', none) %}
        select {{ cdp.utc_moment(var('features_as_of'), 'dbt_project.yml vars: features_as_of') }} as reference_at
    {%- else %}
        select {{ dbt.dateadd('day', 1, dbt.date_trunc('day', 'max(occurred_at)')) }} as reference_at
        from customer_events
    {%- endif %}

),

final as (

    select
        reference_at,
        {{ dbt.dateadd('day', -window_days, 'reference_at') }} as holdout_cutoff_at,
        {{ dbt.dateadd('day', -2 * window_days, 'reference_at') }} as training_cutoff_at,
        {{ window_days }} as label_window_days,
        {{ var('clv_horizon_days', 365) | int }} as clv_horizon_days
    from reference

)

select * from final
