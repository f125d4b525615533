{#- Every touchpoint in one stream, attributed to its customer (null when the record carries
    no usable identifier: a cash sale, an order placed with a placeholder email). Events of
    customers who asked to be deleted are not here.

    Incremental: a run writes only the events that are new (late ones included, however
    late: they are found by their key, not by their time) and the events whose customer
    changed since the last run (or any of their fields: a source
    that corrects a record), which re-attributes a visitor's anonymous history the build
    their identity resolves, and history moved by a merge or split. Post-hooks then remove
    the events of customers who asked to be deleted and events whose source record is gone,
    so an incremental run leaves the table exactly as a full refresh would. -#}
{{ config(
    materialized='incremental',
    unique_key='event_key',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    post_hook=[
        "delete from {{ this }} where customer_id in (select customer_id from {{ ref('int_privacy__deleted_customers') }})",
        "{{ cdp.delete_vanished_events(this, ref('int_events__unioned')) }}",
    ],
) }}

with events as (

    select * from {{ ref('int_events__unioned') }}

),

records_resolved as (

    select * from {{ ref('int_identity__records_resolved') }}

),

deleted_customers as (

    select * from {{ ref('int_privacy__deleted_customers') }}

),

attributed as (

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

),

previous as (

    {%- if is_incremental() %}
        select
            event_key,
            customer_id,
            occurred_at,
            event_type,
            event_name,
            channel,
            revenue
        from {{ this }}
    {%- else %}
        {{ cdp.empty_select([
            ['event_key', dbt.type_string()],
            ['customer_id', dbt.type_string()],
            ['occurred_at', dbt.type_timestamp()],
            ['event_type', dbt.type_string()],
            ['event_name', dbt.type_string()],
            ['channel', dbt.type_string()],
            ['revenue', dbt.type_numeric()],
        ]) }}
    {%- endif %}

),

final as (

    select attributed.*
    from attributed
    left join previous
        on attributed.event_key = previous.event_key
    where
        previous.event_key is null
        or attributed.customer_id is distinct from previous.customer_id
        or attributed.occurred_at is distinct from previous.occurred_at
        or attributed.event_type is distinct from previous.event_type
        or attributed.event_name is distinct from previous.event_name
        or attributed.channel is distinct from previous.channel
        or attributed.revenue is distinct from previous.revenue

)

select * from final
