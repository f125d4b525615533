{#- A typed select of no rows, for unions whose every source is switched off.
    columns: list of [name, type]. -#}
{% macro empty_select(columns) -%}
    select
        {%- for name, type_name in columns %}
        cast(null as {{ type_name }}) as {{ name }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    where 1 = 0
{%- endmacro %}

