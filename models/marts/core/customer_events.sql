{#- Every touchpoint in one stream, attributed to its customer (null when the record carries
    no usable identifier: a cash sale, an order placed with a placeholder email). Events of
    customers who asked to be deleted are not here.

    Incremental: a run writes only the events that are new (late ones included, however
    late: they are found by their key, not by their time) and the events whose customer
    changed since the last run (or any of their fields: a source that corrects a record),
    which re-attributes a visitor's anonymous history the build their identity resolves, and
    history moved by a merge or split. It compares with the stored rows only the events of
    records whose customer or source row changed (macros/events/incremental_events.sql). Post-hooks then remove the events of customers
    who asked to be deleted and events whose source record is gone, so an incremental run
    leaves the table exactly as a full refresh would. -#}
{{ config(
    materialized='incremental',
    unique_key='event_key',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    pre_hook="{{ cdp.customer_events_pre_hook() }}",
    post_hook="{{ cdp.customer_events_post_hook() }}",
) }}
{%- set plan = cdp.customer_events_plan() %}
-- depends_on: {{ ref('int_identity__record_identifiers') }}

with attributed as (

    {{ cdp.customer_event_rows(none if plan.full else plan.affected) }}

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
        from {{ this }} as stored
        {%- if not plan.full %}
        where true{{ cdp.only_changed_records(plan.affected, 'stored.source_table', 'stored.record_id') }}
        {%- endif %}
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
