{#- Behavioural features of every customer as of var features_as_of (default: the start of
    this run), from the events before that moment only; see macros/features. Built
    incrementally: only the customers whose features can have changed since the previous
    build are computed again (macros/features/incremental_features.sql). -#}
{{ config(post_hook="{{ cdp.save_applied_feature_digests(this) }}") }}
{%- set as_of = var('features_as_of') or run_started_at.strftime('%Y-%m-%d %H:%M:%S') -%}

-- depends_on: {{ ref('int_features__devices') }}
{{ cdp.incremental_customer_features(cdp.utc_moment(as_of, 'dbt_project.yml vars: features_as_of')) }}
