{#-
    Connected components in plain SQL, exact, on every engine.

    label_components(edges, result, max_rounds): reads undirected edges (node_a, node_b:
    integer node ids; a node with no neighbour comes as an edge to itself) from the relation
    `edges` and creates table `result` (node_id, component_id), component_id being the
    smallest node id of the component. Returns the number of rounds it took.

    First the graph is contracted: every node hooks onto the smallest node of its
    neighbourhood and the edges are rebuilt between hooks, while that halves them. Identity
    graphs are mostly small clusters, which vanish in one or two contractions, so the rounds
    below run on the chains and tangles that remain, and labels are composed back.

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
    {%- for part in ['edges', 'map', 'hooks', 'next_map', 'next_edges', 'directed', 'labels', 'next'] -%}
        {%- do work.update({part: cdp.work_relation(result, 'cc_' ~ part)}) -%}
    {%- endfor -%}
    {%- for relation in work.values() -%}
        {% do adapter.drop_relation(relation) %}
    {%- endfor -%}

    {#- Every node, labelled by itself; the edges once each, without self loops. -#}
    {% call statement('cc_map') -%}
        create table {{ work.map }} as
        select node_id, node_id as label
        from (
            select node_a as node_id from {{ edges }}
            union
            select node_b as node_id from {{ edges }}
        ) as nodes
        where node_id is not null
    {%- endcall %}
    {% call statement('cc_edges') -%}
        create table {{ work.edges }} as
        select distinct
            least(node_a, node_b) as node_a,
            greatest(node_a, node_b) as node_b
        from {{ edges }}
        where node_a is not null and node_b is not null and node_a <> node_b
    {%- endcall %}

    {#- Contraction: each node hooks onto the smallest node of its neighbourhood, the graph is
        rebuilt between hooks, and the node map follows. Identity graphs are mostly small
        clusters, which vanish after one or two contractions; what stays (chains, tangles)
        goes to the rounds below. Stops when a contraction no longer halves the edges. -#}
    {%- set state = namespace(converged=false, rounds=0, contractions=0, edge_count=0) -%}
    {%- set state.edge_count = run_query('select count(*) from ' ~ work.edges).columns[0].values()[0] | int -%}
    {%- for contraction in range(4) if state.edge_count > 0 and not state.converged -%}
        {% call statement('cc_hooks') -%}
            create table {{ work.hooks }} as
            select node_id, min(neighbour_id) as label
            from (
                select node_a as node_id, node_b as neighbour_id from {{ work.edges }}
                union all
                select node_b as node_id, node_a as neighbour_id from {{ work.edges }}
                union all
                select node_a as node_id, node_a as neighbour_id from {{ work.edges }}
            ) as neighbourhoods
            group by node_id
        {%- endcall %}
        {% call statement('cc_next_map') -%}
            create table {{ work.next_map }} as
            select
                node_map.node_id,
                coalesce(hooks.label, node_map.label) as label
            from {{ work.map }} as node_map
            left join {{ work.hooks }} as hooks
                on node_map.label = hooks.node_id
        {%- endcall %}
        {% call statement('cc_next_edges') -%}
            create table {{ work.next_edges }} as
            select distinct
                least(hooks_a.label, hooks_b.label) as node_a,
                greatest(hooks_a.label, hooks_b.label) as node_b
            from {{ work.edges }} as edges
            inner join {{ work.hooks }} as hooks_a
                on edges.node_a = hooks_a.node_id
            inner join {{ work.hooks }} as hooks_b
                on edges.node_b = hooks_b.node_id
            where hooks_a.label <> hooks_b.label
        {%- endcall %}
        {%- set next_count = run_query('select count(*) from ' ~ work.next_edges).columns[0].values()[0] | int -%}
        {% do adapter.drop_relation(work.map) %}
        {% do adapter.rename_relation(work.next_map, work.map) %}
        {% do adapter.drop_relation(work.edges) %}
        {% do adapter.rename_relation(work.next_edges, work.edges) %}
        {% do adapter.drop_relation(work.hooks) %}
        {%- set state.contractions = state.contractions + 1 -%}
        {%- if next_count * 2 > state.edge_count -%}
            {%- set state.converged = true -%}
        {%- endif -%}
        {%- set state.edge_count = next_count -%}
    {%- endfor -%}
    {{ cdp.analyze_table(work.map) }}

    {#- Rounds on what is left, with parent pointers (see above). -#}
    {% call statement('cc_directed') -%}
        create table {{ work.directed }} as
        select node_a as node_id, node_b as neighbour_id from {{ work.edges }}
        union all
        select node_b as node_id, node_a as neighbour_id from {{ work.edges }}
        union all
        select node_id, node_id as neighbour_id
        from (
            select node_a as node_id from {{ work.edges }}
            union
            select node_b as node_id from {{ work.edges }}
        ) as remaining
    {%- endcall %}
    {{ cdp.analyze_table(work.directed) }}

    {% call statement('cc_init') -%}
        create table {{ work.labels }} as
        select node_id, min(neighbour_id) as label
        from {{ work.directed }}
        group by node_id
    {%- endcall %}
    {{ cdp.analyze_table(work.labels) }}

    {%- set state.converged = state.edge_count == 0 -%}
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
        select
            node_map.node_id,
            coalesce(labels.label, node_map.label) as component_id
        from {{ work.map }} as node_map
        left join {{ work.labels }} as labels
            on node_map.label = labels.node_id
    {%- endcall %}
    {%- for part in ['edges', 'map', 'directed', 'labels'] -%}
        {% do adapter.drop_relation(work[part]) %}
    {%- endfor -%}
    {{ return(state.contractions + state.rounds) }}
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
    {%- set started = modules.datetime.datetime.now() -%}
    {%- set rounds = cdp.label_components(edges_relation, result_relation, max_rounds) -%}
    {% do adapter.commit() %}
    {%- set seconds = (modules.datetime.datetime.now() - started).total_seconds() -%}
    {{ log('connected_components: ' ~ edges ~ ' converged after ' ~ rounds ~ ' rounds in '
           ~ '%.1f' | format(seconds) ~ ' seconds', info=true) }}
{% endmacro %}


{#-
    Materialization `connected_components`: the model's SQL selects the edges (node_a,
    node_b); the table built holds node_id and component_id.
-#}
{% materialization connected_components, default %}
    {{ return(cdp.materialize_graph_algorithm('cc', cdp.label_components, 'converged')) }}
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
