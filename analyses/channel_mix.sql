-- Revenue and orders by channel and month: online orders (channel online) against store sales
-- (channel store), with each channel's share of the month's revenue. Revenue is net: store
-- returns count against the store channel in the month of the return; web and app `track`
-- events that report the same shop orders again are left out (as in the revenue metric).
with customer_events as (

    select * from {{ ref('customer_events') }}

),

purchases as (

    select
        cast({{ dbt.date_trunc('month', 'occurred_at') }} as date) as order_month,
        channel,
        event_type,
        revenue
    from customer_events
    where event_type in ('order_placed', 'store_purchase', 'store_return')

),

channel_months as (

    select
        order_month,
        channel,
        sum(case when event_type in ('order_placed', 'store_purchase') then 1 else 0 end) as orders,
        sum(revenue) as revenue,
        sum(case when event_type = 'store_return' then -revenue else 0 end) as returned_revenue
    from purchases
    group by order_month, channel

),

month_totals as (

    select
        order_month,
        sum(revenue) as month_revenue
    from channel_months
    group by order_month

),

final as (

    select
        channel_months.order_month,
        channel_months.channel,
        channel_months.orders,
        channel_months.revenue,
        channel_months.returned_revenue,
        case
            when channel_months.orders > 0 then round(channel_months.revenue / channel_months.orders, 2)
        end as average_order_value,
        case
            when month_totals.month_revenue <> 0
                then round(channel_months.revenue / month_totals.month_revenue, 4)
        end as revenue_share
    from channel_months
    inner join month_totals
        on channel_months.order_month = month_totals.order_month

)

select * from final
order by order_month, channel
