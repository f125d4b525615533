{#- Every touchpoint as one stream of events, before attribution to customers. -#}
{%- set entries = cdp.enabled_entries(cdp.event_sources()) -%}

with

{{ cdp.import_ctes(entries | map(attribute='model')) }}

unioned as (

    {%- for entry in entries %}

    select
        '{{ entry.source_table }}' as source_table,
        cast({{ entry.record_id }} as {{ dbt.type_string() }}) as record_id,
        {{ entry.occurred_at }} as occurred_at,
        cast({{ entry.event_type }} as {{ dbt.type_string() }}) as event_type,
        cast({{ entry.event_name }} as {{ dbt.type_string() }}) as event_name,
        cast({{ entry.channel }} as {{ dbt.type_string() }}) as channel,
        cast({{ entry.revenue }} as {{ dbt.type_numeric() }}) as revenue
    from {{ entry.model }}
    {% if not loop.last %}union all{% endif %}
    {%- else %}

    {{ cdp.empty_select([
        ['source_table', dbt.type_string()],
        ['record_id', dbt.type_string()],
        ['occurred_at', dbt.type_timestamp()],
        ['event_type', dbt.type_string()],
        ['event_name', dbt.type_string()],
        ['channel', dbt.type_string()],
        ['revenue', dbt.type_numeric()],
    ]) }}
    {%- endfor %}

)

select * from unioned
