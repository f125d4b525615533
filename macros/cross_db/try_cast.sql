{#-
    Cast text to a type, giving null instead of an error when the text does not parse.
    type_name: one of timestamp, timestamptz, date, numeric, integer, bigint.
-#}
{% macro try_cast(expression, type_name) %}
    {{ return(adapter.dispatch('try_cast', 'cdp')(expression, type_name)) }}
{% endmacro %}

{% macro default__try_cast(expression, type_name) -%}
    try_cast({{ expression }} as {{ type_name }})
{%- endmacro %}

{% macro postgres__try_cast(expression, type_name) -%}
    {%- if type_name not in ['timestamp', 'timestamptz', 'date', 'numeric', 'integer', 'bigint'] -%}
        {{ exceptions.raise_compiler_error("cdp.try_cast: type '" ~ type_name ~ "' has no Postgres helper function") }}
    {%- endif -%}
    {{ target.schema }}.cdp_try_cast_{{ type_name }}(cast({{ expression }} as text))
{%- endmacro %}
