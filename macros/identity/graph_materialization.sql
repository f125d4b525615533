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
    {%- set relabel_changed = config.get('relabel_changed', false) -%}
    {%- if relabel_changed is not sameas true and relabel_changed is not sameas false -%}
        {{ exceptions.raise_compiler_error(this.identifier ~ ': config relabel_changed (var identity_relabel_changed) '
                                           ~ 'must be true or false, got ' ~ relabel_changed | tojson) }}
    {%- endif -%}
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
    {#- relabel_changed=true (connected_components): only the components the changed edges
        touch are labelled again (macros/identity/incremental_components.sql) -#}
    {%- if prefix == 'cc' and relabel_changed -%}
        {%- set kept = cdp.kept_component_edges(this) -%}
        {%- if existing_relation is not none and not flags.FULL_REFRESH and cdp.relation_exists(kept) -%}
            {%- set outcome = cdp.relabel_changed_components(edges, result, existing_relation, kept,
                                                             config.get('max_rounds')) -%}
        {%- else -%}
            {%- set outcome = {'rounds': algorithm(edges, result, config.get('max_rounds')), 'relabelled': none} -%}
        {%- endif -%}
        {%- do cdp.keep_component_edges(edges, result, kept) -%}
        {%- set rounds = outcome.rounds -%}
        {%- set scope = ', every node labelled' if outcome.relabelled is none
                        else ', ' ~ '{:,}'.format(outcome.relabelled | int) ~ ' nodes labelled again' -%}
    {%- else -%}
        {%- set rounds = algorithm(edges, result, config.get('max_rounds')) -%}
        {%- set scope = '' -%}
        {#- an edge set kept by an earlier build would not describe this table: a later build
            with relabel_changed on would trust it and miss what changed in between -#}
        {%- if prefix == 'cc' -%}
            {% do adapter.drop_relation(cdp.kept_component_edges(this)) %}
        {%- endif -%}
    {%- endif -%}
    {{ log(model.config.materialized ~ ': ' ~ this ~ ' ' ~ finished ~ ' after ' ~ rounds ~ ' rounds' ~ scope, info=true) }}

    {% call statement('main') -%}
        select count(*) from {{ result }}
    {%- endcall %}

    {{ drop_relation_if_exists(edges) }}
    {{ return(cdp.swap_in_built_relation(result, existing_relation, target_relation, decision)) }}

{% endmacro %}
