{#- One row per customer with events: how many rows of the feature inputs (their events, the
    tickets and order lines behind those events, and, when with_devices, their devices) the
    customer has, and the sum of those rows' fingerprints (int_features__input_digests).

    events: relation or subquery shaped like customer_events. Over every event it gives the
    customers' digests; over some events (those a build wrote, say) the part of the digests
    those events and the rows behind them make up, which incremental feature builds add to the
    digests they applied before (macros/features/incremental_features.sql). -#}
{% macro feature_input_digests_sql(events, with_devices=true) %}
{%- set inputs = cdp.feature_inputs() -%}

with events as {{ cdp.inlined_cte() }} (

    select
        customer_id,
        source_table,
        record_id,
        occurred_at,
        event_type,
        event_name,
        channel,
        revenue
    from {{ events }}
    where customer_id is not null

),

{%- if inputs.tickets %}

    ticket_rows as (

        select
            events.customer_id,
            tickets.ticket_id,
            tickets.solved_at,
            tickets.satisfaction_rating
        from events
        inner join {{ inputs.tickets }} as tickets
            on events.source_table = 'support.tickets'
            and events.record_id = cast(tickets.ticket_id as {{ dbt.type_string() }})
        where events.event_type = 'ticket_created'

    ),
{%- endif %}

line_rows as (

    {%- for source in inputs.order_lines %}
        select
            events.customer_id,
            events.record_id,
            lines.category,
            lines.line_amount
        from events
        inner join {{ source.relation }} as lines
            on events.source_table = '{{ source.source_table }}'
            and events.record_id = cast(lines.{{ source.order_key }} as {{ dbt.type_string() }})
        {% if not loop.last %}union all{% endif %}
    {%- else %}
        {{ cdp.empty_select([['customer_id', dbt.type_string()], ['record_id', dbt.type_string()],
            ['category', dbt.type_string()], ['line_amount', dbt.type_numeric()]]) }}
    {%- endfor %}

),

{%- if with_devices %}

    device_rows as (

        select
            customer_id,
            identifier_type,
            identifier_value,
            first_seen_at
        from {{ inputs.identifiers }}
        where identifier_type in ('device_id', 'advertising_id')

    ),
{%- endif %}

{#- each part summed per customer on its own, then the parts added up: the events are read
    once per part (inlined above: materialised once, the tens of millions of events of a large
    world spilled: 34-43 s against 6 s inlined for 44M events, a 200,000-customer world's
    copied five times, under a 4 GB memory limit) -#}
parts as (

    select
        event_rows.customer_id,
        count(*) as input_rows,
        sum({{ cdp.row_fingerprint('event_rows') }}) as input_digest
    from events as event_rows
    group by event_rows.customer_id
    {%- if inputs.tickets %}
        union all
        select
            ticket_rows.customer_id,
            count(*) as input_rows,
            sum({{ cdp.row_fingerprint('ticket_rows') }}) as input_digest
        from ticket_rows
        group by ticket_rows.customer_id
    {%- endif %}
    union all
    select
        line_rows.customer_id,
        count(*) as input_rows,
        sum({{ cdp.row_fingerprint('line_rows') }}) as input_digest
    from line_rows
    group by line_rows.customer_id
    {%- if with_devices %}
        union all
        select
            device_rows.customer_id,
            count(*) as input_rows,
            sum({{ cdp.row_fingerprint('device_rows') }}) as input_digest
        from device_rows
        group by device_rows.customer_id
    {%- endif %}

),

final as (

    select
        customer_id,
        cast(sum(input_rows) as {{ dbt.type_bigint() }}) as input_rows,
        sum(input_digest) as input_digest
    from parts
    group by customer_id

)

select * from final
{% endmacro %}
