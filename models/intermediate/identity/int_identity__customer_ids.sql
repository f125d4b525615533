{#- Every usable identifier (node) with its customer id, as of this build. A view: the
    columns of int_identity__customer_id_resolution its readers need, not a second copy of
    every node. -#}
{{ config(materialized='view') }}

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
