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
    {%- for relation in [edges, result] -%}
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

    {{ drop_relation_if_exists(edges) }}
    {{ return(cdp.swap_in_built_relation(result, existing_relation, target_relation, decision)) }}

{% endmacro %}
