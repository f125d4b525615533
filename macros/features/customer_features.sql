{#-
    Behavioural features of every customer as of a moment, from the events before it only, so
    the same SQL gives today's features (customer_features) and training features as of an
    earlier cutoff (scoring) without leakage.

    events:    relation shaped like customer_events (customer_id, occurred_at, event_type,
               event_name, channel, revenue, source_table, record_id)
    customers: relation with the customer_id population, or none: every customer with events
    tickets:   relation shaped like stg_support__tickets, or none when support is off
    order_lines: list of {source_table, relation, order_key} for line-level sources (category,
               line_amount), each line belonging to the event of its order
    identifiers: relation with customer_id, identifier_type, identifier_value, first_seen_at
               of (at least) the customers' devices, as customer_identifiers lists them
    as_of:     SQL timestamp expression (naive UTC)

    Windows come from vars feature_order_windows_days and feature_visit_windows_days.
    Sessions follow the 30-minute inactivity rule over web and app events. Email open and
    click rates are per campaign sent: the share of campaigns sent to the customer that they
    opened (clicked) at least once. Ticket state is as
    of the cutoff: solved when solved before it; a rating counts once the ticket was solved.
-#}
{% macro customer_features_sql(events, customers, tickets, order_lines, identifiers, as_of) %}
{%- set order_windows = var('feature_order_windows_days') -%}
{%- set visit_windows = var('feature_visit_windows_days') -%}
{%- set types = cdp.feature_event_types() -%}
{%- set purchase_types = types.purchase -%}
{%- set money_types = types.money -%}
{%- set visit_types = types.visit -%}

with events as (

    select
        customer_id,
        occurred_at,
        event_type,
        event_name,
        channel,
        coalesce(revenue, 0) as revenue,
        source_table,
        record_id
    from {{ events }}
    where customer_id is not null
        and occurred_at < {{ as_of }}

),

population as (

    {%- if customers %}
    select distinct customers.customer_id
    from {{ customers }} as customers
    inner join events
        on customers.customer_id = events.customer_id
    {%- else %}
    select distinct customer_id
    from events
    {%- endif %}

),

activity as (

    select
        customer_id,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at,
        min(case when event_type in {{ purchase_types }} then occurred_at end) as first_order_at,
        max(case when event_type in {{ purchase_types }} then occurred_at end) as last_order_at,
        count(case when event_type in {{ purchase_types }} then 1 end) as order_count,
        sum(case when event_type in {{ money_types }} then revenue else 0 end) as monetary_value,
        {%- for days in order_windows %}
        count(case when event_type in {{ purchase_types }}
            and occurred_at >= {{ dbt.dateadd('day', -days, as_of) }} then 1 end) as orders_{{ days }}d,
        sum(case when event_type in {{ money_types }}
            and occurred_at >= {{ dbt.dateadd('day', -days, as_of) }} then revenue else 0 end) as revenue_{{ days }}d,
        {%- endfor %}
        max(case when event_type in {{ visit_types }} then occurred_at end) as last_visit_at,
        {%- for days in visit_windows %}
        count(case when event_type in ('page_view', 'screen_view')
            and occurred_at >= {{ dbt.dateadd('day', -days, as_of) }} then 1 end) as page_views_{{ days }}d,
        {%- endfor %}
        count(case when event_type = 'email_send' then 1 end) as emails_sent,
        count(case when event_type = 'email_open' then 1 end) as email_opens,
        count(case when event_type = 'email_click' then 1 end) as email_clicks,
        count(case when event_type = 'email_unsubscribe' then 1 end) as email_unsubscribes,
        max(case when event_type = 'email_open' then occurred_at end) as last_email_open_at,
        count(case when event_type = 'ad_click' then 1 end) as ad_clicks,
        count(case when event_type = 'ad_click'
            and occurred_at >= {{ dbt.dateadd('day', -30, as_of) }} then 1 end) as ad_clicks_30d,
        count(case when event_type = 'ticket_created' then 1 end) as tickets,
        max(case when event_type = 'ticket_created' then occurred_at end) as last_ticket_at
    from events
    group by customer_id

),

last_orders as (

    select
        customer_id,
        revenue as last_order_value
    from (
        select
            customer_id,
            revenue,
            row_number() over (
                partition by customer_id order by occurred_at desc, source_table desc, record_id desc
            ) as order_rank
        from events
        where event_type in {{ purchase_types }}
    ) as ranked
    where order_rank = 1

),

channel_counts as (

    select
        customer_id,
        channel,
        count(*) as channel_orders,
        max(occurred_at) as last_channel_order_at
    from events
    where event_type in {{ purchase_types }}
    group by customer_id, channel

),

favourite_channels as (

    select
        customer_id,
        channel as favourite_channel
    from (
        select
            customer_id,
            channel,
            row_number() over (
                partition by customer_id order by channel_orders desc, last_channel_order_at desc, channel asc
            ) as channel_rank
        from channel_counts
    ) as ranked
    where channel_rank = 1

),

campaigns as (

    select
        customer_id,
        event_name as campaign_name,
        max(case when event_type = 'email_send' then 1 else 0 end) as was_sent,
        max(case when event_type = 'email_open' then 1 else 0 end) as was_opened,
        max(case when event_type = 'email_click' then 1 else 0 end) as was_clicked
    from events
    where event_type in {{ types.email }}
        and event_name is not null
    group by customer_id, event_name

),

email_rates as (

    select
        customer_id,
        sum(was_sent) as campaigns_sent,
        cast(sum(was_sent * was_opened) as double precision) / nullif(sum(was_sent), 0) as email_open_rate,
        cast(sum(was_sent * was_clicked) as double precision) / nullif(sum(was_sent), 0) as email_click_rate
    from campaigns
    group by customer_id

),

lines as (

    {%- for source in order_lines %}
        select
            '{{ source.source_table }}' as source_table,
            cast({{ source.order_key }} as {{ dbt.type_string() }}) as record_id,
            category,
            line_amount
        from {{ source.relation }}
        {% if not loop.last %}union all{% endif %}
    {%- else %}
        {{ cdp.empty_select([['source_table', dbt.type_string()], ['record_id', dbt.type_string()],
            ['category', dbt.type_string()], ['line_amount', dbt.type_numeric()]]) }}
    {%- endfor %}

),

category_spend as (

    select
        events.customer_id,
        lines.category,
        sum(lines.line_amount) as category_amount,
        max(events.occurred_at) as last_category_order_at
    from events
    inner join lines
        on events.source_table = lines.source_table
        and events.record_id = lines.record_id
    where events.event_type in {{ purchase_types }}
        and lines.category is not null
    group by events.customer_id, lines.category

),

favourite_categories as (

    select
        customer_id,
        category as favourite_category
    from (
        select
            customer_id,
            category,
            row_number() over (
                partition by customer_id
                order by category_amount desc, last_category_order_at desc, category asc
            ) as category_rank
        from category_spend
    ) as ranked
    where category_rank = 1

),

devices as (

    select
        customer_id,
        count(*) as devices
    from {{ identifiers }}
    where identifier_type in ('device_id', 'advertising_id')
        and first_seen_at < {{ as_of }}
    group by customer_id

),

visits as (

    select
        customer_id,
        occurred_at,
        lag(occurred_at) over (partition by customer_id order by occurred_at) as previous_at
    from events
    where event_type in {{ visit_types }}

),

session_starts as (

    select
        customer_id,
        occurred_at as session_started_at
    from visits
    where previous_at is null
        or {{ dbt.datediff('previous_at', 'occurred_at', 'second') }} > 30 * 60

),

sessions as (

    select
        customer_id,
        count(*) as sessions
        {%- for days in visit_windows %},
        count(case when session_started_at >= {{ dbt.dateadd('day', -days, as_of) }} then 1 end)
            as sessions_{{ days }}d
        {%- endfor %}
    from session_starts
    group by customer_id

),

ticket_states as (

    {%- if tickets %}
    select
        events.customer_id,
        count(case when tickets.solved_at < {{ as_of }} then 1 end) as tickets_closed,
        count(case when tickets.solved_at is null or tickets.solved_at >= {{ as_of }} then 1 end)
            as tickets_open,
        count(case when tickets.solved_at < {{ as_of }} and tickets.satisfaction_rating = 'good' then 1 end)
            as tickets_rated_good,
        count(case when tickets.solved_at < {{ as_of }} and tickets.satisfaction_rating = 'bad' then 1 end)
            as tickets_rated_bad
    from events
    inner join {{ tickets }} as tickets
        on events.source_table = 'support.tickets'
        and events.record_id = cast(tickets.ticket_id as {{ dbt.type_string() }})
    where events.event_type = 'ticket_created'
    group by events.customer_id
    {%- else %}
    {{ cdp.empty_select([['customer_id', dbt.type_string()], ['tickets_closed', dbt.type_bigint()],
        ['tickets_open', dbt.type_bigint()], ['tickets_rated_good', dbt.type_bigint()],
        ['tickets_rated_bad', dbt.type_bigint()]]) }}
    {%- endif %}

),

final as (

    select
        population.customer_id,
        {{ as_of }} as features_as_of,
        activity.first_seen_at,
        cast({{ dbt.datediff('activity.first_seen_at', as_of, 'day') }} as bigint) as tenure_days,
        activity.first_order_at,
        activity.last_order_at,
        cast({{ dbt.datediff('activity.last_order_at', as_of, 'day') }} as bigint) as days_since_last_order,
        activity.order_count,
        activity.monetary_value,
        cast(case when activity.order_count > 0 then activity.monetary_value / activity.order_count end
            as double precision) as average_order_value,
        last_orders.last_order_value,
        {%- for days in order_windows %}
        activity.orders_{{ days }}d,
        activity.revenue_{{ days }}d,
        {%- endfor %}
        favourite_channels.favourite_channel,
        favourite_categories.favourite_category,
        coalesce(devices.devices, 0) as devices,
        activity.last_visit_at,
        cast({{ dbt.datediff('activity.last_visit_at', as_of, 'day') }} as bigint) as days_since_last_visit,
        coalesce(sessions.sessions, 0) as sessions,
        {%- for days in visit_windows %}
        coalesce(sessions.sessions_{{ days }}d, 0) as sessions_{{ days }}d,
        activity.page_views_{{ days }}d,
        {%- endfor %}
        activity.emails_sent,
        activity.email_opens,
        activity.email_clicks,
        cast(coalesce(email_rates.campaigns_sent, 0) as bigint) as email_campaigns_sent,
        email_rates.email_open_rate,
        email_rates.email_click_rate,
        activity.email_unsubscribes,
        cast({{ dbt.datediff('activity.last_email_open_at', as_of, 'day') }} as bigint) as days_since_last_email_open,
        activity.ad_clicks,
        activity.ad_clicks_30d,
        activity.tickets,
        coalesce(ticket_states.tickets_open, 0) as tickets_open,
        coalesce(ticket_states.tickets_closed, 0) as tickets_closed,
        coalesce(ticket_states.tickets_rated_good, 0) as tickets_rated_good,
        coalesce(ticket_states.tickets_rated_bad, 0) as tickets_rated_bad,
        cast({{ dbt.datediff('activity.last_ticket_at', as_of, 'day') }} as bigint) as days_since_last_ticket
    from population
    inner join activity
        on population.customer_id = activity.customer_id
    left join last_orders
        on population.customer_id = last_orders.customer_id
    left join favourite_channels
        on population.customer_id = favourite_channels.customer_id
    left join sessions
        on population.customer_id = sessions.customer_id
    left join ticket_states
        on population.customer_id = ticket_states.customer_id
    left join email_rates
        on population.customer_id = email_rates.customer_id
    left join favourite_categories
        on population.customer_id = favourite_categories.customer_id
    left join devices
        on population.customer_id = devices.customer_id

)

select * from final
{% endmacro %}


{#- The event types features count (SQL lists): purchases (orders, store purchases), money
    (purchases and returns), visits (what sessions are made of), email (campaign rates). -#}
{% macro feature_event_types() %}
    {{ return({
        'purchase': "('order_placed', 'store_purchase')",
        'money': "('order_placed', 'store_purchase', 'store_return')",
        'visit': "('page_view', 'screen_view', 'track', 'identify')",
        'email': "('email_send', 'email_open', 'email_click')",
    }) }}
{% endmacro %}

{#- The relations customer_features_sql reads in this project: events, tickets (none when
    support is off), order_lines and the devices. The population is every customer with events:
    customer_events holds only customers of the customers mart (its relationships test), so
    reading that mart would add nothing but a wait for it; int_features__devices lists the
    devices as customer_identifiers does, from the identity models, for the same reason. -#}
{% macro feature_inputs() %}
    {%- set order_lines = [] -%}
    {%- if var('shop_enabled', true) -%}
        {%- do order_lines.append({'source_table': 'shop.orders', 'relation': ref('stg_shop__order_lines'),
                                   'order_key': 'order_id'}) -%}
    {%- endif -%}
    {%- if var('pos_enabled', true) -%}
        {%- do order_lines.append({'source_table': 'pos.transactions', 'relation': ref('stg_pos__transaction_lines'),
                                   'order_key': 'transaction_id'}) -%}
    {%- endif -%}
    {{ return({
        'events': ref('customer_events'),
        'customers': none,
        'tickets': ref('stg_support__tickets') if var('support_enabled', true) else none,
        'order_lines': order_lines,
        'identifiers': ref('int_features__devices'),
    }) }}
{% endmacro %}

{#- customer_features_sql over this project's models, as of `as_of` (SQL timestamp expression):
    what the customer_features mart and cdp.features.features_as_of both run. `events` stands
    in for customer_events when given (a subquery over it: the incremental build's customers). -#}
{% macro customer_features_as_of(as_of, events=none) %}
    {%- set inputs = cdp.feature_inputs() -%}
    {{ return(cdp.customer_features_sql(
        events=events or inputs.events,
        customers=inputs.customers,
        tickets=inputs.tickets,
        order_lines=inputs.order_lines,
        identifiers=inputs.identifiers,
        as_of=as_of)) }}
{% endmacro %}

{#- SQL timestamp for a UTC moment written 'YYYY-MM-DD[ HH:MM[:SS]]'; a config error otherwise. -#}
{% macro utc_moment(text, origin) %}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}(:[0-9]{2})?)?$', text | string) -%}
        {{ exceptions.raise_compiler_error(origin ~ " '" ~ text
            ~ "' is not a UTC moment written 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM:SS'") }}
    {%- endif -%}
    {{ return("cast('" ~ text ~ "' as " ~ dbt.type_timestamp() ~ ")") }}
{% endmacro %}
