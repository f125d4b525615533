{#- Every staged record that carries a usable identifier, with its customer. -#}

with record_anchors as (

    select * from {{ ref('int_identity__record_anchors') }}

),

components as (

    select * from {{ ref('int_identity__components') }}

),

customer_ids as (

    select * from {{ ref('int_identity__customer_ids') }}

),

final as (

    select
        record_anchors.source_table,
        record_anchors.record_id,
        record_anchors.observed_at,
        customer_ids.customer_id,
        record_anchors.anchor_node_id
    from record_anchors
    inner join components
        on record_anchors.anchor_node_id = components.node_id
    inner join customer_ids
        on components.component_id = customer_ids.component_id

)

select * from final
