{#-
    Connected components in plain SQL, exact, on every engine.

    label_components(edges, result, max_rounds): reads undirected edges (node_a, node_b:
    integer node ids; a node with no neighbour comes as an edge to itself) from the relation
    `edges` and creates table `result` (node_id, component_id), component_id being the
    smallest node id of the component. Returns the number of rounds it took.

    The labels are parent pointers (each node's label is a node of its component, never
    larger than itself). Each round, in the manner of the FastSV algorithm (Zhang, Azad and
    Hu, 2020), a node's label becomes the smallest of: its label, its grandparent (pointer
    jumping), the smallest grandparent among its neighbours (aggressive hooking), and, for a
    node that is some nodes' parent, the smallest neighbour grandparent of those children
    (stochastic hooking, which hooks whole trees). Labels only decrease, so the loop stops
    when a round changes nothing, and then every component carries its minimum node id.
    Trees double in reach each round: a chain of n nodes takes about log2(n) + 2 rounds in
    any id order, not n. Past max_rounds it stops with an error, never a partial answer.

    Used by the `connected_components` materialization (a model whose SQL selects the
    edges) and by `dbt run-operation label_components_of` (tests, benchmarks).
-#}
{% macro label_components(edges, result, max_rounds=none) %}
    {%- set max_rounds = (max_rounds or var('identity_max_component_rounds', 60)) | int -%}
    {%- set work = {} -%}
    {%- for part in ['directed', 'labels', 'next'] -%}
        {%- do work.update({part: api.Relation.create(
            database=result.database, schema=result.schema,
            identifier=result.identifier ~ '__cc_' ~ part, type='table')}) -%}
    {%- endfor -%}
    {%- for relation in work.values() -%}
        {% do adapter.drop_relation(relation) %}
    {%- endfor -%}

    {% call statement('cc_directed') -%}
        create table {{ work.directed }} as
        with directed as (
            select node_a as node_id, node_b as neighbour_id from {{ edges }}
            union
            select node_b as node_id, node_a as neighbour_id from {{ edges }}
            union
            select node_a as node_id, node_a as neighbour_id from {{ edges }}
            union
            select node_b as node_id, node_b as neighbour_id from {{ edges }}
        )

        select node_id, neighbour_id
        from directed
        where node_id is not null and neighbour_id is not null
    {%- endcall %}
    {{ cdp.analyze_table(work.directed) }}

    {% call statement('cc_init') -%}
        create table {{ work.labels }} as
        select node_id, min(neighbour_id) as label
        from {{ work.directed }}
        group by node_id
    {%- endcall %}
    {{ cdp.analyze_table(work.labels) }}

    {%- set state = namespace(converged=false, rounds=0) -%}
    {%- for round in range(max_rounds) if not state.converged -%}
        {% call statement('cc_round') -%}
            create table {{ work.next }} as
            with grandparents as (
                select
                    parents.node_id,
                    grand.label as grandparent
                from {{ work.labels }} as parents
                inner join {{ work.labels }} as grand
                    on parents.label = grand.node_id
            ),

            neighbour_grandparents as (
                select
                    directed.node_id,
                    min(grandparents.grandparent) as grandparent
                from {{ work.directed }} as directed
                inner join grandparents
                    on directed.neighbour_id = grandparents.node_id
                group by directed.node_id
            ),

            candidates as (
                select node_id, label as candidate from {{ work.labels }}
                union all
                select node_id, grandparent as candidate from grandparents
                union all
                select node_id, grandparent as candidate from neighbour_grandparents
                union all
                select
                    labels.label as node_id,
                    neighbour_grandparents.grandparent as candidate
                from {{ work.labels }} as labels
                inner join neighbour_grandparents
                    on labels.node_id = neighbour_grandparents.node_id
            )

            select
                node_id,
                min(candidate) as label
            from candidates
            group by node_id
        {%- endcall %}
        {{ cdp.analyze_table(work.next) }}
        {%- set changed = run_query(
            'select count(*) from ' ~ work.next ~ ' as next_labels inner join ' ~ work.labels
            ~ ' as labels on next_labels.node_id = labels.node_id where next_labels.label <> labels.label'
        ).columns[0].values()[0] | int -%}
        {% do adapter.drop_relation(work.labels) %}
        {% do adapter.rename_relation(work.next, work.labels) %}
        {%- set state.rounds = state.rounds + 1 -%}
        {%- if changed == 0 -%}
            {%- set state.converged = true -%}
        {%- endif -%}
    {%- endfor -%}

    {%- if not state.converged -%}
        {{ exceptions.raise_compiler_error(
            'connected components of ' ~ edges ~ ' did not converge in ' ~ max_rounds
            ~ ' rounds; raise var identity_max_component_rounds') }}
    {%- endif -%}

    {% call statement('cc_result') -%}
        create table {{ result }} as
        select node_id, label as component_id
        from {{ work.labels }}
    {%- endcall %}
    {% do adapter.drop_relation(work.directed) %}
    {% do adapter.drop_relation(work.labels) %}
    {{ return(state.rounds) }}
{% endmacro %}


{#- dbt run-operation label_components_of --args '{edges: schema.table, result: schema.table}' -#}
{% macro label_components_of(edges, result, max_rounds=none) %}
    {%- set edges_parts = edges.split('.') -%}
    {%- set result_parts = result.split('.') -%}
    {%- set edges_relation = api.Relation.create(
        database=target.database, schema=edges_parts[0], identifier=edges_parts[1]) -%}
    {%- set result_relation = api.Relation.create(
        database=target.database, schema=result_parts[0], identifier=result_parts[1], type='table') -%}
    {% do adapter.drop_relation(result_relation) %}
    {%- set rounds = cdp.label_components(edges_relation, result_relation, max_rounds) -%}
    {% do adapter.commit() %}
    {{ log('connected_components: ' ~ edges ~ ' converged after ' ~ rounds ~ ' rounds', info=true) }}
{% endmacro %}


{#-
    Materialization `connected_components`: the model's SQL selects the edges (node_a,
    node_b); the table built holds node_id and component_id.
-#}
{% materialization connected_components, default %}

    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set edges = api.Relation.create(
        database=this.database, schema=this.schema, identifier=this.identifier ~ '__cc_edges', type='table') -%}
    {%- set result = api.Relation.create(
        database=this.database, schema=this.schema, identifier=this.identifier ~ '__cc_result', type='table') -%}
    {%- set backup_relation = make_backup_relation(target_relation, 'table') -%}
    {%- for relation in [edges, result, backup_relation] -%}
        {{ drop_relation_if_exists(load_cached_relation(relation) or relation) }}
    {%- endfor -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {% call statement('cc_edges') -%}
        create table {{ edges }} as {{ sql }}
    {%- endcall %}
    {%- set rounds = cdp.label_components(edges, result, config.get('max_rounds')) -%}
    {{ log('connected_components: ' ~ this ~ ' converged after ' ~ rounds ~ ' rounds', info=true) }}

    {% call statement('main') -%}
        select count(*) from {{ result }}
    {%- endcall %}

    {% if existing_relation is not none %}
        {{ adapter.rename_relation(existing_relation, backup_relation) }}
    {% endif %}
    {{ adapter.rename_relation(result, target_relation) }}
    {{ drop_relation_if_exists(edges) }}

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
