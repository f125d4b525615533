{#-
    Split clusters around seeds: given undirected edges and seed nodes, every node goes to
    the seed it is nearest to (fewest edges away), by breadth-first search from all seeds at
    once in SQL. A node first reached from several seeds at the same distance is ambiguous:
    it joins none and stops the search there, so no path through it carries one seed's
    cluster into another's. Nodes no seed reaches are unreached.

    Used by the identity graph's guard for types limited to one value per customer: in a
    component holding two user_ids, each user_id seeds its own cluster and a shared value
    between them (an email two people typed) ends up ambiguous instead of merging them.

    partition_by_seeds(edges, result): `edges` has node_a, node_b and seed_id_a (set on a
    row node_a = node_b that declares node_a a seed of that id). Creates `result`
    (node_id, seed_id, distance, status: seed | assigned | ambiguous | unreached).
-#}
{% macro partition_by_seeds(edges, result, max_rounds=none) %}
    {%- set max_rounds = (max_rounds or var('identity_max_component_rounds', 60)) | int -%}
    {%- set directed = cdp.work_relation(result, 'sp_directed') -%}
    {% do adapter.drop_relation(directed) %}
    {% do adapter.drop_relation(result) %}
    {% call statement('sp_directed') -%}
        create table {{ directed }} as
        select node_a as node_id, node_b as neighbour_id from {{ edges }} where node_a <> node_b
        union
        select node_b as node_id, node_a as neighbour_id from {{ edges }} where node_a <> node_b
    {%- endcall %}
    {{ cdp.analyze_table(directed) }}
    {% call statement('sp_seeds') -%}
        create table {{ result }} as
        select distinct
            node_a as node_id,
            seed_id_a as seed_id,
            0 as distance,
            'seed' as status
        from {{ edges }}
        where seed_id_a is not null
    {%- endcall %}
    {%- set state = namespace(done=false, rounds=0) -%}
    {%- for distance in range(1, max_rounds + 1) if not state.done -%}
        {% call statement('sp_round') -%}
            insert into {{ result }} (node_id, seed_id, distance, status)
            with frontier as (
                select node_id, seed_id
                from {{ result }}
                where distance = {{ distance - 1 }} and seed_id is not null
            ),

            reached as (
                select
                    directed.neighbour_id as node_id,
                    frontier.seed_id
                from frontier
                inner join {{ directed }} as directed
                    on frontier.node_id = directed.node_id
            ),

            fresh as (
                select reached.node_id, reached.seed_id
                from reached
                left join {{ result }} as labelled
                    on reached.node_id = labelled.node_id
                where labelled.node_id is null
            )

            select
                node_id,
                case when count(distinct seed_id) = 1 then min(seed_id) end as seed_id,
                {{ distance }} as distance,
                case when count(distinct seed_id) = 1 then 'assigned' else 'ambiguous' end as status
            from fresh
            group by node_id
        {%- endcall %}
        {%- set added = run_query('select count(*) from ' ~ result ~ ' where distance = ' ~ distance)
            .columns[0].values()[0] | int -%}
        {%- set state.rounds = distance -%}
        {%- if added == 0 -%}{%- set state.done = true -%}{%- endif -%}
    {%- endfor -%}
    {%- if not state.done -%}
        {{ exceptions.raise_compiler_error('partition_by_seeds: ' ~ edges ~ ' still growing after '
                                           ~ max_rounds ~ ' rounds; raise var identity_max_component_rounds') }}
    {%- endif -%}
    {% call statement('sp_unreached') -%}
        insert into {{ result }} (node_id, seed_id, distance, status)
        select distinct directed.node_id, cast(null as {{ dbt.type_bigint() }}), cast(null as integer), 'unreached'
        from {{ directed }} as directed
        left join {{ result }} as labelled
            on directed.node_id = labelled.node_id
        where labelled.node_id is null
    {%- endcall %}
    {% do adapter.drop_relation(directed) %}
    {{ return(state.rounds) }}
{% endmacro %}


{#- Materialization `seeded_partition`: the model selects node_a, node_b, seed_id_a (see
    partition_by_seeds); the table built holds node_id, seed_id, distance, status. -#}
{% materialization seeded_partition, default %}
    {{ return(cdp.materialize_graph_algorithm('sp', cdp.partition_by_seeds, 'settled')) }}
{% endmaterialization %}
