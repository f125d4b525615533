{#- Keyword that makes a CTE compute once (Postgres otherwise inlines a CTE used once and may
    evaluate its expressions per reference). Use as: name as {{ cdp.materialized_cte() }} (...) -#}
{% macro materialized_cte() %}
    {{ return(adapter.dispatch('materialized_cte', 'cdp')()) }}
{% endmacro %}

{% macro default__materialized_cte() -%}
    materialized
{%- endmacro %}
