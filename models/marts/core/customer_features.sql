{#- Behavioural features of every customer as of var features_as_of (default: the start of
    this run), from the events before that moment only; see macros/features. -#}
{%- set as_of_text = var('features_as_of') or run_started_at.strftime('%Y-%m-%d %H:%M:%S') -%}
{%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}(:[0-9]{2})?)?$', as_of_text | string) -%}
    {{ exceptions.raise_compiler_error("dbt_project.yml vars: features_as_of '" ~ as_of_text
        ~ "' is not a UTC moment written 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM:SS'") }}
{%- endif -%}
{%- set tickets = ref('stg_support__tickets') if var('support_enabled', true) else none -%}

{{ cdp.customer_features_sql(
    events=ref('customer_events'),
    customers=ref('customers'),
    tickets=tickets,
    as_of="cast('" ~ as_of_text ~ "' as " ~ dbt.type_timestamp() ~ ")"
) }}
