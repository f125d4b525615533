{#- Post-hook of every model (dbt_project.yml). Postgres plans a query by its tables'
    statistics, which a table built a moment ago does not have yet (autovacuum gathers them
    later, after the build has read the table): without them it guesses one row for a filtered
    scan and nests loops over tables of thousands of rows (a 1,500-customer build spent 58 s in
    one such join). So a table is analysed as soon as it is built. DuckDB keeps its statistics
    as it writes; views have none to gather. -#}
{% macro analyze_built_relation() %}
    {{- return(adapter.dispatch('analyze_built_relation', 'cdp')()) -}}
{% endmacro %}

{% macro default__analyze_built_relation() %}{% endmacro %}

{% macro postgres__analyze_built_relation() %}
    {%- if execute and model.language == 'sql' and config.get('materialized') not in ('view', 'ephemeral') -%}
        analyze {{ this }}
    {%- endif -%}
{% endmacro %}
