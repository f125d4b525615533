{#- Every staged record that carries a usable identifier, with its customer (the customer
    of the record's anchor identifier). -#}

with record_anchors as (

    select * from {{ ref('int_identity__record_anchors') }}

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
    inner join customer_ids
        on record_anchors.anchor_node_id = customer_ids.node_id

)

select * from final
