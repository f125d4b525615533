{#-
    Materialization `connected_components`: the model's SQL selects undirected edges
    (node_a, node_b: integer node ids; a node with no neighbour comes as an edge to itself),
    and the table built holds one row per node: node_id and component_id, the smallest
    node id of its connected component. Exact, in plain SQL, on every engine.

    Each round every node takes the smallest label among its neighbours and itself
    (hooking), then the label of that label (pointer jumping). Labels only decrease and
    always name a node of the same component, so the loop stops when a round changes
    nothing, and at that point every component carries its minimum node id. Pointer jumping
    doubles the distance a label travels per round, so a chain of n nodes needs about
    log2(n) rounds, not n. The loop stops with an error after `max_rounds` rounds
    (config, default var identity_max_component_rounds) rather than return a partial answer.
-#}
{% materialization connected_components, default %}

    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set max_rounds = config.get('max_rounds', var('identity_max_component_rounds', 60)) | int -%}
    {%- set work = {} -%}
    {%- for part in ['edges', 'labels', 'next', 'result'] -%}
        {%- do work.update({part: api.Relation.create(
            database=this.database, schema=this.schema,
            identifier=this.identifier ~ '__cc_' ~ part, type='table')}) -%}
    {%- endfor -%}
    {%- set backup_relation = make_backup_relation(target_relation, 'table') -%}

    {%- for relation in work.values() | list + [backup_relation] -%}
        {{ drop_relation_if_exists(load_cached_relation(relation) or relation) }}
    {%- endfor -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {% call statement('cc_edges') -%}
        create table {{ work.edges }} as
        with model_edges as (
            {{ sql }}
        ),

        directed as (
            select node_a as node_id, node_b as neighbour_id from model_edges
            union
            select node_b as node_id, node_a as neighbour_id from model_edges
            union
            select node_a as node_id, node_a as neighbour_id from model_edges
            union
            select node_b as node_id, node_b as neighbour_id from model_edges
        )

        select node_id, neighbour_id
        from directed
        where node_id is not null and neighbour_id is not null
    {%- endcall %}
    {{ cdp.analyze_table(work.edges) }}

    {% call statement('cc_init') -%}
        create table {{ work.labels }} as
        select node_id, min(neighbour_id) as label
        from {{ work.edges }}
        group by node_id
    {%- endcall %}
    {{ cdp.analyze_table(work.labels) }}

    {%- set state = namespace(converged=false, rounds=0) -%}
    {%- for round in range(max_rounds) if not state.converged -%}
        {% call statement('cc_round') -%}
            create table {{ work.next }} as
            with hooked as (
                select
                    edges.node_id,
                    min(labels.label) as label
                from {{ work.edges }} as edges
                inner join {{ work.labels }} as labels
                    on edges.neighbour_id = labels.node_id
                group by edges.node_id
            )

            select
                hooked.node_id,
                coalesce(jumped.label, hooked.label) as label
            from hooked
            left join hooked as jumped
                on hooked.label = jumped.node_id
        {%- endcall %}
        {{ cdp.analyze_table(work.next) }}
        {%- set changed = run_query(
            'select count(*) from ' ~ work.next ~ ' as next_labels inner join ' ~ work.labels
            ~ ' as labels on next_labels.node_id = labels.node_id where next_labels.label <> labels.label'
        ).columns[0].values()[0] | int -%}
        {{ drop_relation_if_exists(work.labels) }}
        {{ adapter.rename_relation(work.next, work.labels) }}
        {%- set state.rounds = state.rounds + 1 -%}
        {%- if changed == 0 -%}
            {%- set state.converged = true -%}
        {%- endif -%}
    {%- endfor -%}

    {%- if not state.converged -%}
        {{ exceptions.raise_compiler_error(
            'connected_components: ' ~ this ~ ' did not converge in ' ~ max_rounds
            ~ ' rounds; raise var identity_max_component_rounds or the model config max_rounds') }}
    {%- endif -%}
    {{ log('connected_components: ' ~ this ~ ' converged after ' ~ state.rounds ~ ' rounds', info=true) }}

    {% call statement('main') -%}
        create table {{ work.result }} as
        select node_id, label as component_id
        from {{ work.labels }}
    {%- endcall %}

    {% if existing_relation is not none %}
        {{ adapter.rename_relation(existing_relation, backup_relation) }}
    {% endif %}
    {{ adapter.rename_relation(work.result, target_relation) }}
    {{ drop_relation_if_exists(work.edges) }}
    {{ drop_relation_if_exists(work.labels) }}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {% do persist_docs(target_relation, model) %}
    {{ adapter.commit() }}
    {{ drop_relation_if_exists(backup_relation) }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}

{% endmaterialization %}


{#- Refresh planner statistics of a freshly built work table (Postgres plans joins of
    tables created in the same transaction blind otherwise). -#}
{% macro analyze_table(relation) %}
    {{ return(adapter.dispatch('analyze_table', 'cdp')(relation)) }}
{% endmacro %}

{% macro default__analyze_table(relation) %}
{% endmacro %}

{% macro postgres__analyze_table(relation) %}
    {% call statement('analyze_' ~ relation.identifier) %}analyze {{ relation }}{% endcall %}
{% endmacro %}
