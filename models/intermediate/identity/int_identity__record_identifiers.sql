{#- Every identifier every staged record carries: one row per record and identifier. -#}
{%- set entries = cdp.enabled_entries(cdp.identity_record_sources()) -%}

with

{% for entry in entries -%}
{{ entry.model }} as (

    select * from {{ ref(entry.model) }}

),

{% endfor -%}

record_identifiers as (

    {%- for entry in entries %}
    {%- set entry_loop = loop %}
    {%- for identifier_type, column in entry.identifiers %}

    select
        '{{ entry.source_table }}' as source_table,
        cast({{ entry.record_id }} as {{ dbt.type_string() }}) as record_id,
        '{{ identifier_type }}' as identifier_type,
        cast({{ column }} as {{ dbt.type_string() }}) as identifier_value,
        {{ entry.observed_at }} as observed_at
    from {{ entry.model }}
    where {{ column }} is not null
    {% if not (loop.last and entry_loop.last) %}union all{% endif %}
    {%- endfor %}
    {%- else %}

    {{ cdp.empty_select([
        ['source_table', dbt.type_string()],
        ['record_id', dbt.type_string()],
        ['identifier_type', dbt.type_string()],
        ['identifier_value', dbt.type_string()],
        ['observed_at', dbt.type_timestamp()],
    ]) }}
    {%- endfor %}

)

select * from record_identifiers
