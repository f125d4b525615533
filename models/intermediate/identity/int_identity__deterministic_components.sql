{{ config(materialized='connected_components', relabel_changed=var('identity_relabel_changed', true)) }}

{#- Connected components over the deterministic edges alone: which identifiers are tied by
    shared identifiers, without the matcher. A customer's identifiers outside its largest
    deterministic component joined it through a probabilistic match. -#}

with edges as (

    select * from {{ ref('int_identity__edges') }}

),

identifiers as (

    select * from {{ ref('int_identity__identifiers') }}

),

final as (

    select
        node_a,
        node_b
    from edges
    where match_type = 'deterministic'

    union all

    select
        node_id as node_a,
        node_id as node_b
    from identifiers
    where not is_blocked

)

select * from final
