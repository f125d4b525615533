{#- What the HubSpot contact sync sends: one row per known customer with a usable email,
    keyed by email, with the CDP's properties. Customers who asked to be deleted are never
    sent: they are not in customers. -#}

with customers as (

    select * from {{ ref('customers') }}

),

final as (

    select
        email,
        customer_id as cdp_customer_id,
        first_name as firstname,
        last_name as lastname,
        phone,
        order_count as cdp_order_count,
        total_revenue as cdp_total_revenue,
        cast(last_order_at as date) as cdp_last_order_date,
        cast(first_seen_at as date) as cdp_first_seen_date
    from customers
    where email is not null
        and not is_anonymous

)

select * from final
