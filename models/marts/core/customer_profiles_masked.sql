{#- customers for readers who may not see contact details: the email keeps its first letter
    and domain (j***@example.com), the phone its last four digits (***0134). -#}

with customers as (

    select * from {{ ref('customers') }}

),

final as (

    select
        customer_id,
        first_name,
        last_name,
        case
            when email is not null then substr(email, 1, 1) || '***@' || split_part(email, '@', 2)
        end as email_masked,
        case
            when phone is not null then '***' || substr(phone, length(phone) - 3, 4)
        end as phone_masked,
        is_anonymous,
        identifier_count,
        first_seen_at,
        last_seen_at,
        source_count,
        sources_seen,
        order_count,
        total_revenue,
        first_order_at,
        last_order_at
    from customers

)

select * from final
