-- Monthly purchase cohorts: customers grouped by the month of their first order (online or in
-- store), and the share of each cohort that ordered again 1, 2, ... months later (month 0 is
-- the first order month itself, always 1). Read along a row to see a cohort fade; down a
-- column to see whether newer cohorts stay longer.
with customers as (

    select * from {{ ref('customers') }}

),

customer_events as (

    select * from {{ ref('customer_events') }}

),

cohorts as (

    select
        customer_id,
        cast({{ dbt.date_trunc('month', 'first_order_at') }} as date) as cohort_month
    from customers
    where first_order_at is not null

),

cohort_sizes as (

    select
        cohort_month,
        count(*) as cohort_customers
    from cohorts
    group by cohort_month

),

order_months as (

    select distinct
        customer_id,
        cast({{ dbt.date_trunc('month', 'occurred_at') }} as date) as order_month
    from customer_events
    where customer_id is not null
        and event_type in ('order_placed', 'store_purchase')

),

cohort_orders as (

    select
        cohorts.customer_id,
        cohorts.cohort_month,
        order_months.order_month
    from cohorts
    inner join order_months
        on cohorts.customer_id = order_months.customer_id

),

cohort_activity as (

    select
        customer_id,
        cohort_month,
        cast(
            (extract(year from order_month) - extract(year from cohort_month)) * 12
            + extract(month from order_month) - extract(month from cohort_month)
            as integer
        ) as months_since_first_order
    from cohort_orders

),

retention as (

    select
        cohort_month,
        months_since_first_order,
        count(distinct customer_id) as ordering_customers
    from cohort_activity
    where months_since_first_order >= 0
    group by cohort_month, months_since_first_order

),

final as (

    select
        retention.cohort_month,
        retention.months_since_first_order,
        cohort_sizes.cohort_customers,
        retention.ordering_customers,
        round(
            cast(retention.ordering_customers as numeric(18, 6)) / cohort_sizes.cohort_customers, 4
        ) as retention_rate
    from retention
    inner join cohort_sizes
        on retention.cohort_month = cohort_sizes.cohort_month

)

select * from final
order by cohort_month, months_since_first_order
