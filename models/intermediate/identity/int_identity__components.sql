{{ config(materialized='connected_components', relabel_changed=var('identity_relabel_changed', true)) }}

{#- Connected components of the identity graph, deterministic and probabilistic edges
    together, before the guards: every usable identifier with the smallest node id of its
    component. -#}

with edges as (

    select * from {{ ref('int_identity__guarded_edges') }}

),

identifiers as (

    select * from {{ ref('int_identity__identifiers') }}

),

final as (

    select
        node_a,
        node_b
    from edges

    union all

    select
        node_id as node_a,
        node_id as node_b
    from identifiers
    where not is_blocked

)

select * from final
