{#- Lowercase hex SHA-256 of a text expression (ad platforms' hashed identifiers). -#}
{% macro sha256_hex(expression) %}
    {{ return(adapter.dispatch('sha256_hex', 'cdp')(expression)) }}
{% endmacro %}

{% macro default__sha256_hex(expression) -%}
    sha256({{ expression }})
{%- endmacro %}

{% macro postgres__sha256_hex(expression) -%}
    encode(sha256(convert_to({{ expression }}, 'UTF8')), 'hex')
{%- endmacro %}
