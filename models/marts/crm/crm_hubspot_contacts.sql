{#- What the HubSpot contact sync sends: one row per known customer with a usable email,
    keyed by email, with the CDP's properties and predictive scores. Customers who asked to be
    deleted are never sent: they are not in customers. -#}

with customers as (

    select * from {{ ref('customers') }}

),

customer_scores as (

    select
        scores.customer_id,
        scores.model_name,
        scores.score
    from {{ cdp.customer_scores_relation() }} as scores

),

scores_wide as (

    select
        customer_id,
        max(case when model_name = 'churn' then score end) as churn_score,
        max(case when model_name = 'purchase_propensity' then score end) as purchase_propensity,
        max(case when model_name = 'customer_lifetime_value' then score end) as lifetime_value
    from customer_scores
    group by customer_id

),

final as (

    select
        customers.email,
        customers.customer_id as cdp_customer_id,
        customers.first_name as firstname,
        customers.last_name as lastname,
        customers.phone,
        customers.order_count as cdp_order_count,
        customers.total_revenue as cdp_total_revenue,
        cast(customers.last_order_at as date) as cdp_last_order_date,
        cast(customers.first_seen_at as date) as cdp_first_seen_date,
        cast(scores_wide.churn_score as double precision) as cdp_churn_score,
        cast(scores_wide.purchase_propensity as double precision) as cdp_purchase_propensity,
        cast(scores_wide.lifetime_value as double precision) as cdp_lifetime_value
    from customers
    left join scores_wide
        on customers.customer_id = scores_wide.customer_id
    where customers.email is not null
        and not customers.is_anonymous

)

select * from final
