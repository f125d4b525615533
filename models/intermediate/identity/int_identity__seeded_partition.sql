{{ config(materialized='seeded_partition') }}

{#- The guard for types limited to one value per customer (var identity_type_limits): in a
    component holding several values of such a type, each value seeds its own cluster and
    every other identifier goes to the nearest seed; identifiers equally near to two seeds
    belong to neither. Only violating components are partitioned. When several limited types
    are violated, the strongest type (var identity_identifier_priority) seeds. -#}
{%- set single_types = [] -%}
{%- for identifier_type, limit in var('identity_type_limits').items() if limit | int == 1 -%}
    {%- do single_types.append(identifier_type) -%}
{%- endfor %}

with components as {{ cdp.inlined_cte() }} (

    select * from {{ ref('int_identity__components') }}

),

identifiers as (

    select * from {{ ref('int_identity__identifiers') }}

),

edges as (

    select * from {{ ref('int_identity__guarded_edges') }}

),

limited_nodes as (

    select
        components.component_id,
        components.node_id,
        identifiers.identifier_type,
        identifiers.type_priority
    from components
    inner join identifiers
        on components.node_id = identifiers.node_id
    where identifiers.identifier_type in ({{ cdp.sql_string_list(single_types) }})

),

violations as (

    select
        component_id,
        identifier_type,
        min(type_priority) as type_priority
    from limited_nodes
    group by component_id, identifier_type
    having count(*) > 1

),

seeding_type as (

    select
        component_id,
        min(type_priority) as type_priority
    from violations
    group by component_id

),

seeds as (

    select
        limited_nodes.node_id as node_a,
        limited_nodes.node_id as node_b,
        limited_nodes.node_id as seed_id_a
    from limited_nodes
    inner join seeding_type
        on limited_nodes.component_id = seeding_type.component_id
        and limited_nodes.type_priority = seeding_type.type_priority

),

violating_edges as (

    select
        edges.node_a,
        edges.node_b,
        cast(null as {{ dbt.type_bigint() }}) as seed_id_a
    from edges
    inner join components
        on edges.node_a = components.node_id
    inner join seeding_type
        on components.component_id = seeding_type.component_id

),

final as (

    select * from seeds
    union all
    select * from violating_edges

)

select * from final
