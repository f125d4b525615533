{#- One select per entry, unioned: source_table (the entry's literal), record_id (its key as
    text) and each of `columns` ([name, type]) cast from the entry's expression of that name;
    an entry may add a `where` condition. A typed select of no rows when no entry is enabled,
    so the column list is written once. -#}
{% macro union_entries(entries, columns) -%}
    {%- for entry in entries %}
    select
        '{{ entry.source_table }}' as source_table,
        cast({{ entry.record_id }} as {{ dbt.type_string() }}) as record_id,
        {%- for name, type_name in columns %}
        cast({{ entry[name] }} as {{ type_name }}) as {{ name }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ entry.model }}
    {%- if entry.get('where') %}
    where {{ entry.where }}
    {%- endif %}
    {% if not loop.last %}union all{% endif %}
    {%- else %}
    {{ cdp.empty_select([['source_table', dbt.type_string()], ['record_id', dbt.type_string()]] + columns) }}
    {%- endfor %}
{%- endmacro %}
