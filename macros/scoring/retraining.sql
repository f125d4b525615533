{#-
    Training on a schedule (int_scoring__retraining decides per build).

    scoring_retrains(): true when this build retrains the churn and purchase propensity
    models; true at parse time and before int_scoring__retraining was ever built. Reads the one row of int_scoring__retraining, which dbt built
    earlier in this run (every caller refs it through here).

    kept_unless_retraining(sql): the model's SQL when the build retrains or the model's table
    does not exist yet; otherwise the table as it is (the training data of the kept models),
    less the rows of customers who asked to be deleted since.
-#}
{% macro scoring_retrains() %}
    {%- set retraining = ref('int_scoring__retraining') -%}
    {%- if not execute or adapter.get_relation(database=retraining.database, schema=retraining.schema,
                                               identifier=retraining.identifier) is none -%}
        {#- parsing, or compiling before a build (sqlfluff, dbt compile): the SQL that trains -#}
        {{ return(true) }}
    {%- endif -%}
    {%- set result = run_query('select retrain from ' ~ retraining) -%}
    {%- if result.rows | length != 1 -%}
        {{ exceptions.raise_compiler_error(retraining ~ ' should hold one row, not ' ~ result.rows | length) }}
    {%- endif -%}
    {{ return(result.rows[0][0] in [true, 'true', 't', 1]) }}
{% endmacro %}

{% macro kept_unless_retraining(sql) %}
    {%- set deleted_customers = ref('int_privacy__deleted_customers') -%}
    {%- set retrains = cdp.scoring_retrains() -%}
    {%- set kept = adapter.get_relation(database=this.database, schema=this.schema,
                                        identifier=this.identifier) if execute else none -%}
    {%- if kept is not none and not retrains -%}
        select kept.*
        from {{ kept }} as kept
        where not exists (
            select 1
            from {{ deleted_customers }} as deleted_customers
            where deleted_customers.customer_id = kept.customer_id
        )
    {%- else -%}
        {{ sql }}
    {%- endif -%}
{% endmacro %}
