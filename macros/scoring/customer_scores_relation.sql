{#-
    The relation holding customer_scores, for SQL models downstream of the scores (the CRM sync
    models). On DuckDB the scores are a dbt Python model: a ref, so dbt builds them first. On
    Postgres, which runs no dbt Python models, `cdp build` writes the table after `dbt build`
    and then rebuilds the models that read it; before the first scoring run the table does not
    exist and an empty select with its columns stands in.
-#}
{% macro customer_scores_relation() %}
    {{ return(adapter.dispatch('customer_scores_relation', 'cdp')()) }}
{% endmacro %}

{% macro default__customer_scores_relation() %}
    {%- set scores = adapter.get_relation(database=target.database, schema=target.schema ~ '_marts',
                                          identifier='customer_scores') if execute else none -%}
    {%- if scores is not none -%}
        {{ return(scores) }}
    {%- endif -%}
    {{ return('(' ~ cdp.empty_select([
        ['customer_id', dbt.type_string()],
        ['model_name', dbt.type_string()],
        ['score', 'double precision'],
    ]) ~ ')') }}
{% endmacro %}

{% macro duckdb__customer_scores_relation() %}
    {{ return(ref('customer_scores')) }}
{% endmacro %}
