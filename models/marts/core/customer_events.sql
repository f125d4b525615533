{#- Every touchpoint in one stream, attributed to its customer (null when the record carries
    no usable identifier: a cash sale, an order placed with a placeholder email). Events of
    customers who asked to be deleted are not here. -#}

with events as (

    select * from {{ ref('int_events__unioned') }}

),

records_resolved as (

    select * from {{ ref('int_identity__records_resolved') }}

),

deleted_customers as (

    select * from {{ ref('int_privacy__deleted_customers') }}

),

final as (

    select
        events.source_table || ':' || events.record_id as event_key,
        records_resolved.customer_id,
        events.occurred_at,
        events.event_type,
        events.event_name,
        events.channel,
        events.revenue,
        split_part(events.source_table, '.', 1) as source_name,
        events.source_table,
        events.record_id
    from events
    left join records_resolved
        on events.source_table = records_resolved.source_table
        and events.record_id = records_resolved.record_id
    left join deleted_customers
        on records_resolved.customer_id = deleted_customers.customer_id
    where deleted_customers.customer_id is null

)

select * from final
