{#- The devices (device and advertising ids) of every customer as customer_identifiers lists
    them (customers who asked to be deleted aside), read from the identity models: what the
    features count and digest, available as soon as identity is resolved rather than after the
    marts and their tests. -#}

with customer_ids as (

    select * from {{ ref('int_identity__customer_ids') }}

),

identifiers as (

    select * from {{ ref('int_identity__identifiers') }}

),

deleted_customers as (

    select * from {{ ref('int_privacy__deleted_customers') }}

),

final as (

    select
        customer_ids.customer_id,
        identifiers.identifier_type,
        identifiers.identifier_value,
        identifiers.first_seen_at
    from customer_ids
    inner join identifiers
        on customer_ids.node_id = identifiers.node_id
    left join deleted_customers
        on customer_ids.customer_id = deleted_customers.customer_id
    where identifiers.identifier_type in ('device_id', 'advertising_id')
        and deleted_customers.customer_id is null

)

select * from final
