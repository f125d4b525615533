{#-
    Connected components labelled again only where the graph changed.

    A model materialized `connected_components` with relabel_changed=true keeps, beside its
    table, the edge set that table was labelled from (work relation `cc_kept`: each edge once
    as least/greatest, self loops kept so that isolated nodes count). A later build compares
    the model's edges with that set: the ends of every edge added or removed are the changed
    nodes. Only the components that held a changed node (their previous labels) and the new
    nodes are labelled again, from the current edges among them; every other node keeps its
    label. That is exact: a component with no changed node has the same nodes and edges as
    before, so the same smallest node id; an added edge joins two changed nodes, so both
    components it merges are labelled again; a removed edge marks its component, which is
    labelled again whole and may fall apart.

    relabel_changed_components(edges, result, previous, kept, max_rounds, max_share) creates `result`
    (node_id, component_id) from the model's edges `edges`, the previous table `previous`
    and the kept edge set `kept`, and leaves the new edge set in work relation `cc_next_kept`
    for the caller to keep (keep_component_edges). When the changed part is over max_share
    (default var identity_relabel_max_share) of the nodes (previous and new), it labels everything (the same answer). Returns
    {'rounds': rounds the labelling took, 'relabelled': nodes labelled again, or none when
    everything was}.
-#}
{% macro component_edge_set(edges) -%}
    select distinct
        least(node_a, node_b) as node_a,
        greatest(node_a, node_b) as node_b
    from {{ edges }}
    where node_a is not null and node_b is not null
{%- endmacro %}

{% macro relabel_changed_components(edges, result, previous, kept, max_rounds=none, max_share=none) %}
    {%- set work = {} -%}
    {%- for part in ['next_kept', 'changed_nodes', 'region', 'region_edges', 'region_labels'] -%}
        {%- do work.update({part: cdp.work_relation(result, 'cc_' ~ part)}) -%}
    {%- endfor -%}
    {%- for relation in work.values() -%}
        {% do adapter.drop_relation(relation) %}
    {%- endfor -%}

    {% call statement('cc_next_kept') -%}
        create table {{ work.next_kept }} as
        {{ cdp.component_edge_set(edges) }}
    {%- endcall %}
    {{ cdp.analyze_table(work.next_kept) }}

    {#- the ends of the edges in one set and not in the other, each with its previous
        component (null: a node new to the graph) -#}
    {% call statement('cc_changed_nodes') -%}
        create table {{ work.changed_nodes }} as
        with changed_edges as (
            select
                coalesce(now_edges.node_a, kept_edges.node_a) as node_a,
                coalesce(now_edges.node_b, kept_edges.node_b) as node_b
            from {{ work.next_kept }} as now_edges
            full outer join {{ kept }} as kept_edges
                on now_edges.node_a = kept_edges.node_a
                and now_edges.node_b = kept_edges.node_b
            where now_edges.node_a is null or kept_edges.node_a is null
        ),

        changed_ids as (
            select node_a as node_id from changed_edges
            union
            select node_b as node_id from changed_edges
        )

        select
            changed_ids.node_id,
            previous_labels.component_id as previous_component_id
        from changed_ids
        left join {{ previous }} as previous_labels
            on changed_ids.node_id = previous_labels.node_id
    {%- endcall %}

    {#- every node of a component holding a changed node, and the changed nodes themselves -#}
    {% call statement('cc_region') -%}
        create table {{ work.region }} as
        select previous_labels.node_id
        from {{ previous }} as previous_labels
        inner join (
            select distinct previous_component_id
            from {{ work.changed_nodes }}
            where previous_component_id is not null
        ) as touched_components
            on previous_labels.component_id = touched_components.previous_component_id
        union
        select node_id from {{ work.changed_nodes }}
    {%- endcall %}
    {{ cdp.analyze_table(work.region) }}

    {#- the share is of the current graph's nodes: the previous ones and the new ones -#}
    {%- set counts = run_query(
        'select (select count(*) from ' ~ work.region ~ '), (select count(*) from ' ~ previous ~ '), '
        ~ '(select count(*) from ' ~ work.changed_nodes ~ ' where previous_component_id is null)'
    ).rows[0] -%}
    {%- set region_nodes = counts[0] | int -%}
    {%- set graph_nodes = counts[1] | int + counts[2] | int -%}
    {%- set max_share = var('identity_relabel_max_share', 0.2) if max_share is none else max_share -%}
    {%- if region_nodes > max_share | float * graph_nodes -%}
        {%- for part in ['changed_nodes', 'region'] -%}
            {% do adapter.drop_relation(work[part]) %}
        {%- endfor -%}
        {%- set rounds = cdp.label_components(work.next_kept, result, max_rounds) -%}
        {{ return({'rounds': rounds, 'relabelled': none}) }}
    {%- endif -%}

    {#- the current edges of the region: an edge with one end in it has both there -#}
    {% call statement('cc_region_edges') -%}
        create table {{ work.region_edges }} as
        select now_edges.node_a, now_edges.node_b
        from {{ work.next_kept }} as now_edges
        inner join {{ work.region }} as region
            on now_edges.node_a = region.node_id
    {%- endcall %}
    {%- set rounds = cdp.label_components(work.region_edges, work.region_labels, max_rounds) -%}

    {% call statement('cc_relabelled_result') -%}
        create table {{ result }} as
        select previous_labels.node_id, previous_labels.component_id
        from {{ previous }} as previous_labels
        left join {{ work.region }} as region
            on previous_labels.node_id = region.node_id
        where region.node_id is null
        union all
        select node_id, component_id
        from {{ work.region_labels }}
    {%- endcall %}
    {%- for part in ['changed_nodes', 'region', 'region_edges', 'region_labels'] -%}
        {% do adapter.drop_relation(work[part]) %}
    {%- endfor -%}
    {{ return({'rounds': rounds, 'relabelled': region_nodes}) }}
{% endmacro %}

{#- The edge set a connected_components table with relabel_changed=true was labelled from. -#}
{% macro kept_component_edges(relation) %}
    {{ return(cdp.work_relation(relation, 'cc_kept')) }}
{% endmacro %}

{#- Keep the edge set `result` was just labelled from (left in cc_next_kept by
    relabel_changed_components, or computed here from `edges`) as the kept one. -#}
{% macro keep_component_edges(edges, result, kept) %}
    {%- set next_kept = cdp.work_relation(result, 'cc_next_kept') -%}
    {%- if not cdp.relation_exists(next_kept) -%}
        {% call statement('cc_next_kept') -%}
            create table {{ next_kept }} as
            {{ cdp.component_edge_set(edges) }}
        {%- endcall %}
    {%- endif -%}
    {% do adapter.drop_relation(kept) %}
    {% do adapter.rename_relation(next_kept, kept) %}
{% endmacro %}

{#- dbt run-operation relabel_components_of --args '{previous_edges: s.t, edges: s.t, result: s.t, max_share: x}':
    labels previous_edges in full (keeping its edge set), then labels edges again where they
    differ (tests, benchmarks). Logs the rounds and how many nodes were labelled again. -#}
{% macro relabel_components_of(previous_edges, edges, result, max_share=none) %}
    {%- set relations = {} -%}
    {%- for key, name in [['previous_edges', previous_edges], ['edges', edges], ['result', result]] -%}
        {%- set parts = name.split('.') -%}
        {%- do relations.update({key: api.Relation.create(database=target.database, schema=parts[0],
                                                          identifier=parts[1], type='table')}) -%}
    {%- endfor -%}
    {%- set previous = cdp.work_relation(relations.result, 'previous') -%}
    {%- set kept = cdp.kept_component_edges(relations.result) -%}
    {%- for relation in [relations.result, previous, kept] -%}
        {% do adapter.drop_relation(relation) %}
    {%- endfor -%}
    {%- do cdp.label_components(relations.previous_edges, previous) -%}
    {%- do cdp.keep_component_edges(relations.previous_edges, previous, kept) -%}
    {%- set outcome = cdp.relabel_changed_components(relations.edges, relations.result, previous, kept,
                                                     max_share=max_share) -%}
    {%- do cdp.keep_component_edges(relations.edges, relations.result, kept) -%}
    {% do adapter.commit() %}
    {{ log('connected_components: ' ~ edges ~ ' converged after ' ~ outcome.rounds ~ ' rounds, '
           ~ (outcome.relabelled if outcome.relabelled is not none else 'all') ~ ' nodes labelled again',
           info=true) }}
{% endmacro %}
