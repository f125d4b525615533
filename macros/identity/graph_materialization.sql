{#-
    Body shared by the graph materializations (connected_components, seeded_partition): the
    model's SQL (the edges) lands in a work table, `algorithm(edges, result, max_rounds)`
    builds the result table in rounds and returns how many it took, and the result replaces
    the model's table (the previous one kept as a backup until the commit). Work tables are
    named with `prefix` so the two algorithms never share one.
-#}
{% macro materialize_graph_algorithm(prefix, algorithm, finished) %}

    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set edges = cdp.work_relation(this, prefix ~ '_input') -%}
    {%- set result = cdp.work_relation(this, prefix ~ '_output') -%}
    {%- set backup_relation = make_backup_relation(target_relation, 'table') -%}
    {%- for relation in [edges, result, backup_relation] -%}
        {{ drop_relation_if_exists(load_cached_relation(relation) or relation) }}
    {%- endfor -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {#- versioned=true: kept as it is while its SQL and inputs are (versioned_table) -#}
    {%- set decision = cdp.versioned_build_decision(sql, existing_relation) if config.get('versioned') else none -%}
    {%- if decision is not none and decision.keep -%}
        {{ return(cdp.keep_versioned_relation(target_relation)) }}
    {%- endif %}

    {% call statement(prefix ~ '_edges') -%}
        create table {{ edges }} as {{ sql }}
    {%- endcall %}
    {%- set rounds = algorithm(edges, result, config.get('max_rounds')) -%}
    {{ log(model.config.materialized ~ ': ' ~ this ~ ' ' ~ finished ~ ' after ' ~ rounds ~ ' rounds', info=true) }}

    {% call statement('main') -%}
        select count(*) from {{ result }}
    {%- endcall %}

    {% if existing_relation is not none %}
        {{ adapter.rename_relation(existing_relation, backup_relation) }}
    {% endif %}
    {{ adapter.rename_relation(result, target_relation) }}
    {{ drop_relation_if_exists(edges) }}
    {%- if decision is not none %}
        {% call statement('save_version') -%}
            {{ cdp.save_built_version(target_relation, decision) }}
        {%- endcall %}
    {%- endif %}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {% do persist_docs(target_relation, model) %}
    {{ adapter.commit() }}
    {{ drop_relation_if_exists(backup_relation) }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}

{% endmacro %}
