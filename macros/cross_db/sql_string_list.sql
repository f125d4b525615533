{#- A SQL list of string literals for `in (...)`; a list that matches nothing when empty. -#}
{% macro sql_string_list(values) -%}
    {%- for value in values %}'{{ value | replace("'", "''") }}'{% if not loop.last %}, {% endif %}{% endfor -%}
    {%- if not values %}null{% endif -%}
{%- endmacro %}
