{#- Keyword that makes a CTE compute once (Postgres otherwise inlines a CTE used once and may
    evaluate its expressions per reference). Use as: name as {{ cdp.materialized_cte() }} (...) -#}
{% macro materialized_cte() %}
    {{ return(adapter.dispatch('materialized_cte', 'cdp')()) }}
{% endmacro %}

{% macro default__materialized_cte() -%}
    materialized
{%- endmacro %}

{#- Keyword that makes a CTE referenced several times inline into each reference instead of
    computing once, so that each reference's filters reach the scan: for a CTE over a large
    table of which each reference reads a small part. -#}
{% macro inlined_cte() %}
    {{ return(adapter.dispatch('inlined_cte', 'cdp')()) }}
{% endmacro %}

{% macro default__inlined_cte() -%}
    not materialized
{%- endmacro %}
