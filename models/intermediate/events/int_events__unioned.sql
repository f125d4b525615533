{#- Every touchpoint as one stream of events, before attribution to customers. -#}
{%- set entries = cdp.enabled_entries(cdp.event_sources()) -%}

with

{{ cdp.import_ctes(entries | map(attribute='model')) }}

unioned as (

    {{ cdp.union_entries(entries, [
        ['occurred_at', dbt.type_timestamp()],
        ['event_type', dbt.type_string()],
        ['event_name', dbt.type_string()],
        ['channel', dbt.type_string()],
        ['revenue', dbt.type_numeric()],
    ]) }}

)

select * from unioned
