{#- Behavioural features of every customer as of var features_as_of (default: the start of
    this run), from the events before that moment only; see macros/features. -#}
{%- set as_of = var('features_as_of') or run_started_at.strftime('%Y-%m-%d %H:%M:%S') -%}

{{ cdp.customer_features_as_of(cdp.utc_moment(as_of, 'dbt_project.yml vars: features_as_of')) }}
