{#- What the CRM sync must delete downstream: one row per identifier (CRM contact id, email,
    phone) of every customer who asked to be deleted, with when they asked. The customers
    themselves are gone from every other mart. -#}

with deleted_customers as (

    select * from {{ ref('int_privacy__deleted_customers') }}

),

customer_ids as (

    select * from {{ ref('int_identity__customer_ids') }}

),

final as (

    select
        deleted_customers.customer_id,
        customer_ids.identifier_type,
        customer_ids.identifier_value,
        deleted_customers.first_requested_at,
        deleted_customers.deletion_requested_at,
        deleted_customers.request_count
    from deleted_customers
    inner join customer_ids
        on deleted_customers.customer_id = customer_ids.customer_id
    where customer_ids.identifier_type in ('crm_contact_id', 'email', 'phone')

)

select * from final
