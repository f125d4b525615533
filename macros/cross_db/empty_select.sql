{#- A typed select of no rows, for unions whose every source is switched off.
    columns: list of [name, type]. -#}
{% macro empty_select(columns) -%}
    select
        {%- for name, type_name in columns %}
        cast(null as {{ type_name }}) as {{ name }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    where 1 = 0
{%- endmacro %}


{#- A SQL list of string literals for `in (...)`; a list that matches nothing when empty. -#}
{% macro sql_string_list(values) -%}
    {%- for value in values %}'{{ value | replace("'", "''") }}'{% if not loop.last %}, {% endif %}{% endfor -%}
    {%- if not values %}null{% endif -%}
{%- endmacro %}
