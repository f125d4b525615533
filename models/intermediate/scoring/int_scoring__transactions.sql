{#- The purchase log the lifetime value model fits on: one row per order or store sale of a
    known customer before int_scoring__cutoffs.reference_at, with its revenue (null counts as
    zero spend; a store return is not a purchase occasion and is left out). -#}

with customer_events as (

    select * from {{ ref('customer_events') }}

),

cutoffs as (

    select * from {{ ref('int_scoring__cutoffs') }}

),

final as (

    select
        customer_events.customer_id,
        customer_events.occurred_at as ordered_at,
        coalesce(customer_events.revenue, 0) as revenue
    from customer_events
    cross join cutoffs
    where
        customer_events.customer_id is not null
        and customer_events.event_type in ('order_placed', 'store_purchase')
        and customer_events.occurred_at < cutoffs.reference_at

)

select * from final
