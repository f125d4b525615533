{#- Consent per customer and purpose (var privacy_consent_purposes): the latest statement
    wins; of statements made at the same moment a denial wins. `unknown` where the customer
    never made one. Customers who asked to be deleted are not here. -#}
{%- set purposes = var('privacy_consent_purposes') -%}

with customer_ids as (

    select * from {{ ref('int_identity__customer_ids') }}

),

statements as (

    select * from {{ ref('int_privacy__consent_statements') }}

),

deleted_customers as (

    select * from {{ ref('int_privacy__deleted_customers') }}

),

purposes as (

    {%- for purpose in purposes %}
        select '{{ purpose }}' as purpose
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

customers as (

    select distinct customer_ids.customer_id
    from customer_ids
    left join deleted_customers
        on customer_ids.customer_id = deleted_customers.customer_id
    where deleted_customers.customer_id is null

),

ranked as (

    select
        statements.*,
        count(*) over (partition by statements.customer_id, statements.purpose) as statement_count,
        row_number() over (
            partition by statements.customer_id, statements.purpose
            order by
                statements.stated_at desc,
                case when statements.is_granted then 1 else 0 end asc,
                statements.statement_source asc,
                statements.record_id asc
        ) as statement_rank
    from statements

),

final as (

    select
        customers.customer_id,
        purposes.purpose,
        case
            when ranked.is_granted then 'granted'
            when not ranked.is_granted then 'denied'
            else 'unknown'
        end as consent_status,
        ranked.is_granted,
        ranked.stated_at as decided_at,
        ranked.statement_source as decided_by,
        coalesce(ranked.statement_count, 0) as statement_count
    from customers
    cross join purposes
    left join ranked
        on customers.customer_id = ranked.customer_id
        and purposes.purpose = ranked.purpose
        and ranked.statement_rank = 1

)

select * from final
