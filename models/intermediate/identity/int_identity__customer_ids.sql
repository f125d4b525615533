{#- Every usable identifier (node) with its customer id, as of this build. -#}

with resolution as (

    select * from {{ ref('int_identity__customer_id_resolution') }}

),

final as (

    select
        node_id,
        identifier_type,
        identifier_value,
        cluster_key,
        assigned_by,
        customer_id,
        customer_created_at
    from resolution

)

select * from final
