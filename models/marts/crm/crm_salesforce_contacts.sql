{#- What the Salesforce Contact sync sends: one row per known customer with a usable email and a
    last name, keyed by cdp_customer_id (the external id field CDP_Customer_Id__c). Salesforce
    refuses a Contact without LastName, so customers without one are left out rather than sent
    with a made-up name (the model's documentation has the query that counts them), and so are
    emails longer than the 80 characters Salesforce's Email field holds; names are cut to the
    Contact field lengths (FirstName 40, LastName 80). Customers who asked to be deleted are
    never sent: they are not in customers. Scores stay out: on Postgres customer_scores is
    written by `cdp score` after dbt, so no dbt model may ref it. -#}

with customers as (

    select * from {{ ref('customers') }}

),

final as (

    select
        customer_id as cdp_customer_id,
        substring(first_name, 1, 40) as first_name,
        substring(trim(last_name), 1, 80) as last_name,
        email,
        phone,
        order_count as cdp_order_count,
        total_revenue as cdp_total_revenue,
        cast(last_order_at as date) as cdp_last_order_date,
        cast(first_seen_at as date) as cdp_first_seen_date,
        lifecycle_stage as cdp_lifecycle_stage
    from customers
    where email is not null
        and length(email) <= 80
        and trim(last_name) != ''
        and not is_anonymous

)

select * from final
