{#- Regular-expression helpers with one meaning on every engine. Patterns are unanchored
    searches unless they anchor themselves with ^ and $. -#}

{% macro regex_matches(expression, pattern) %}
    {{ return(adapter.dispatch('regex_matches', 'cdp')(expression, pattern)) }}
{% endmacro %}

{% macro default__regex_matches(expression, pattern) -%}
    regexp_matches({{ expression }}, '{{ pattern }}')
{%- endmacro %}

{% macro postgres__regex_matches(expression, pattern) -%}
    ({{ expression }} ~ '{{ pattern }}')
{%- endmacro %}


{#- First capture group of pattern in expression, or null when it does not match. -#}
{% macro regex_extract(expression, pattern) %}
    {{ return(adapter.dispatch('regex_extract', 'cdp')(expression, pattern)) }}
{% endmacro %}

{% macro default__regex_extract(expression, pattern) -%}
    nullif(regexp_extract({{ expression }}, '{{ pattern }}', 1), '')
{%- endmacro %}

{% macro postgres__regex_extract(expression, pattern) -%}
    nullif(substring({{ expression }} from '{{ pattern }}'), '')
{%- endmacro %}


{#- expression with every match of pattern replaced by replacement (the same call on both engines). -#}
{% macro regex_replace_all(expression, pattern, replacement='') -%}
    regexp_replace({{ expression }}, '{{ pattern }}', '{{ replacement }}', 'g')
{%- endmacro %}
