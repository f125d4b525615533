{#-
    Customer features built incrementally: the same rows customer_features_sql gives over every
    customer, computing again only the customers whose features can have changed, and updating
    from their new events alone those whose only change is events added.

    A customer's features as of a moment depend on their feature inputs (int_features__input_digests)
    and on that moment. Between the previous build (as of `previous_at`) and this one (as of
    `current_at`, later or the same), a customer's row changes beyond a plain shift of its
    day counts only when
      - their inputs changed (their digest differs from the one the previous build applied,
        kept beside the table by the post-hook save_applied_feature_digests), or
      - one of their events crossed a window edge: it lies in [previous_at - d, current_at - d)
        for d = 0 (events that were still ahead of previous_at) or a window length (var
        feature_order_windows_days, feature_visit_windows_days, the 30-day ad-click window), or
      - a ticket of theirs was solved, or a device first seen, in [previous_at, current_at).
    Every other row is the previous one moved to current_at: features_as_of set, tenure_days
    and days_since_* increased by the days between the two moments (day counts are
    calendar-day differences on both warehouses, so they add up).

    Of the customers whose inputs changed, those whose inputs only grew are updated from the
    rows added (merged, below); the rest are computed again from all their events. Inputs only
    grew when the digest now is the applied one plus the digest of the events the last
    customer_events build wrote for the customer (its list of compared records,
    customer_events_compared_relation; the tickets and order lines behind those events
    included), and no window edge, solved ticket or new device touches the customer. Their row
    is then the previous one moved to current_at, with
      - counts and sums (orders, revenue, page views, emails, ad clicks, tickets and their
        states) increased by the added events' own,
      - first and last moments the earlier and later of the two, day counts the smaller
        (tenure the larger),
      - the favourites, last order value and email rates computed again from the customer's
        purchase and email events when an added event is one of those,
      - sessions changed by the session starts the added visits make and remove: only visit
        moments within 30 minutes after an added one can change, so only the visits within an
        hour of an added one take part (one join of the added visits with the events finds
        them; that join still passes over every event, as do the edge, compared-events and
        recompute steps: six passes per table, the cost left in this query).
    Everything is computed again on --full-refresh, on the first build, when the features SQL
    changed (its signature: the macro's code, the window vars, the sources switched on) or the
    previous table's columns differ from the SQL's, when the applied digests are missing, and
    when the moment moved back; nothing is merged when the list of compared records is missing
    (customer_events compared every event).

    as_of: SQL timestamp expression (as customer_features_as_of).
-#}
{% macro incremental_customer_features(as_of) %}
    {%- set inputs = cdp.feature_inputs() -%}
    {%- set digests = ref('int_features__input_digests') -%}
    {%- set compared = cdp.customer_events_compared_relation() -%}
    {%- set full_sql = cdp.customer_features_as_of(as_of) -%}
    {%- if not execute or flags.FULL_REFRESH -%}
        {{ return(full_sql) }}
    {%- endif -%}
    {%- set previous = adapter.get_relation(database=this.database, schema=this.schema, identifier=this.identifier) -%}
    {%- set applied = cdp.applied_feature_digests_relation(this) -%}
    {%- if previous is none or adapter.get_relation(database=applied.database, schema=applied.schema,
                                                    identifier=applied.identifier) is none -%}
        {{ return(full_sql) }}
    {%- endif -%}
    {%- set applied_columns = adapter.get_columns_in_relation(applied) | map(attribute='name') | map('lower') | list -%}
    {%- if 'feature_sql_signature' not in applied_columns
            or run_query('select max(feature_sql_signature) from ' ~ applied).rows[0][0]
               != cdp.feature_sql_signature() -%}
        {#- the features SQL changed since (code, vars, sources switched): everyone -#}
        {{ return(full_sql) }}
    {%- endif -%}
    {%- set columns = get_columns_in_query(full_sql) | map('lower') | list -%}
    {%- set previous_columns = adapter.get_columns_in_relation(previous) | map(attribute='name') | map('lower') | list -%}
    {%- if columns != previous_columns -%}
        {{ return(full_sql) }}
    {%- endif -%}
    {%- set edges = [0, 30] + var('feature_order_windows_days') + var('feature_visit_windows_days') -%}
    {%- set shifted = ['tenure_days'] -%}
    {%- for column in columns if column.startswith('days_since_') -%}
        {%- do shifted.append(column) -%}
    {%- endfor -%}
    {%- set merge = cdp.relation_exists(compared) -%}
    {%- set types = cdp.feature_event_types() -%}
    {{ return(cdp.incremental_customer_features_sql(
        as_of, previous, applied, digests, inputs, columns, shifted, edges | unique | list,
        recompute_sql=cdp.customer_features_as_of(as_of, events=cdp.events_of_customers(inputs.events, 'affected_customers')),
        compared=compared if merge else none,
        added_sql=cdp.customer_features_as_of(as_of, events='added_events') if merge else none,
        recent_sql=cdp.customer_features_as_of(as_of, events=cdp.events_of_customers(
            inputs.events, 'recent_customers',
            '(feature_events.event_type in ' ~ types.purchase ~ ' or feature_events.event_type in ' ~ types.email ~ ')'))
            if merge else none)) }}
{% endmacro %}

{#- Subquery: the rows of `events` (shaped like customer_events) of the customers in the CTE
    named `customers`, those meeting `condition` (SQL over alias feature_events) when given. -#}
{% macro events_of_customers(events, customers, condition=none) %}
    {%- set sql -%}
        (
            select feature_events.*
            from {{ events }} as feature_events
            inner join {{ customers }}
                on feature_events.customer_id = {{ customers }}.customer_id
            {%- if condition %}
            where {{ condition }}
            {%- endif %}
        ) as {{ customers }}_events
    {%- endset -%}
    {{ return(sql) }}
{% endmacro %}

{#- How a merged row gets each column from the previous row (`previous_rows`, moved to the new
    moment), the features of the added events alone (`added`, none when the customer has no
    added event before the moment), the features computed again from their purchase and email
    events (`recent`) and the session starts changed (`session_changes`). A column without a
    rule stops the build: a new feature needs one. -#}
{% macro merged_feature_column(column, shift) %}
    {%- set order_windows = var('feature_order_windows_days') -%}
    {%- set visit_windows = var('feature_visit_windows_days') -%}
    {%- set summed = ['order_count', 'monetary_value', 'emails_sent', 'email_opens', 'email_clicks',
                      'email_unsubscribes', 'ad_clicks', 'ad_clicks_30d', 'tickets', 'tickets_open',
                      'tickets_closed', 'tickets_rated_good', 'tickets_rated_bad'] -%}
    {%- for days in order_windows -%}
        {%- do summed.extend(['orders_' ~ days ~ 'd', 'revenue_' ~ days ~ 'd']) -%}
    {%- endfor -%}
    {%- set sessions = ['sessions'] -%}
    {%- for days in visit_windows -%}
        {%- do summed.append('page_views_' ~ days ~ 'd') -%}
        {%- do sessions.append('sessions_' ~ days ~ 'd') -%}
    {%- endfor -%}
    {%- set recent = ['last_order_value', 'favourite_channel', 'favourite_category', 'email_campaigns_sent',
                      'email_open_rate', 'email_click_rate'] -%}
    {%- if column == 'customer_id' or column == 'devices' -%}
        previous_rows.{{ column }}
    {%- elif column == 'features_as_of' -%}
        feature_moments.current_at
    {%- elif column in summed -%}
        previous_rows.{{ column }} + coalesce(added.{{ column }}, 0)
    {%- elif column in ['first_seen_at', 'first_order_at'] -%}
        least(previous_rows.{{ column }}, added.{{ column }})
    {%- elif column in ['last_order_at', 'last_visit_at'] -%}
        greatest(previous_rows.{{ column }}, added.{{ column }})
    {%- elif column == 'tenure_days' -%}
        greatest(previous_rows.{{ column }} + {{ shift }}, added.{{ column }})
    {%- elif column.startswith('days_since_') -%}
        least(previous_rows.{{ column }} + {{ shift }}, added.{{ column }})
    {%- elif column in recent -%}
        case when recent.customer_id is null then previous_rows.{{ column }} else recent.{{ column }} end
    {%- elif column in sessions -%}
        previous_rows.{{ column }} + coalesce(session_changes.{{ column }}, 0)
    {%- elif column == 'average_order_value' -%}
        cast(case
            when previous_rows.order_count + coalesce(added.order_count, 0) > 0
                then (previous_rows.monetary_value + coalesce(added.monetary_value, 0))
                    / (previous_rows.order_count + coalesce(added.order_count, 0))
        end as double precision)
    {%- else -%}
        {{ exceptions.raise_compiler_error("macros/features/incremental_features.sql: feature column '" ~ column
            ~ "' has no rule for merging added events (merged_feature_column)") }}
    {%- endif -%}
{% endmacro %}

{% macro incremental_customer_features_sql(as_of, previous, applied, digests, inputs, columns, shifted, edges,
                                           recompute_sql, compared=none, added_sql=none, recent_sql=none) %}
{%- set types = cdp.feature_event_types() -%}
{%- set shift = dbt.datediff('feature_moments.previous_at', 'feature_moments.current_at', 'day') -%}
with feature_moments as (

    select
        max(previous_rows.features_as_of) as previous_at,
        min(previous_rows.features_as_of) as earliest_previous_at,
        {{ as_of }} as current_at
    from {{ previous }} as previous_rows

),

changed_inputs as (

    select
        coalesce(current_digests.customer_id, applied_digests.customer_id) as customer_id,
        current_digests.input_rows - applied_digests.input_rows as added_rows,
        current_digests.input_digest - applied_digests.input_digest as added_digest
    from {{ digests }} as current_digests
    full outer join {{ applied }} as applied_digests
        on current_digests.customer_id = applied_digests.customer_id
    where current_digests.customer_id is null
        or applied_digests.customer_id is null
        or current_digests.input_rows <> applied_digests.input_rows
        or current_digests.input_digest <> applied_digests.input_digest

),

crossed_edges as (

    select distinct edge_events.customer_id
    from {{ inputs.events }} as edge_events
    cross join feature_moments
    where edge_events.customer_id is not null
        and (
            {%- for days in edges %}
                (edge_events.occurred_at >= {{ dbt.dateadd('day', -days, 'feature_moments.previous_at') }}
                    and edge_events.occurred_at < {{ dbt.dateadd('day', -days, 'feature_moments.current_at') }})
                {%- if not loop.last %} or{% endif %}
            {%- endfor %}
        )

),

{%- if inputs.tickets %}

    solved_tickets as (

        select distinct ticket_events.customer_id
        from {{ inputs.events }} as ticket_events
        inner join {{ inputs.tickets }} as tickets
            on ticket_events.source_table = 'support.tickets'
            and ticket_events.record_id = cast(tickets.ticket_id as {{ dbt.type_string() }})
        cross join feature_moments
        where ticket_events.event_type = 'ticket_created'
            and ticket_events.customer_id is not null
            and tickets.solved_at >= feature_moments.previous_at
            and tickets.solved_at < feature_moments.current_at

    ),
{%- endif %}

new_devices as (

    select distinct devices.customer_id
    from {{ inputs.identifiers }} as devices
    cross join feature_moments
    where devices.identifier_type in ('device_id', 'advertising_id')
        and devices.first_seen_at >= feature_moments.previous_at
        and devices.first_seen_at < feature_moments.current_at

),

moved_back as (

    {#- every customer when the moment moved back (or the table held several) -#}
    select current_digests.customer_id
    from {{ digests }} as current_digests
    cross join feature_moments
    where feature_moments.current_at < feature_moments.previous_at
        or feature_moments.earliest_previous_at <> feature_moments.previous_at

),

moved_by_time as (

    select customer_id from crossed_edges
    {%- if inputs.tickets %}
        union
        select customer_id from solved_tickets
    {%- endif %}
    union
    select customer_id from new_devices
    union
    select customer_id from moved_back

),

{%- if compared is not none %}

    compared_events as (

        {#- the events the last customer_events build wrote are among these #}
        select feature_events.*
        from {{ inputs.events }} as feature_events
        inner join {{ compared }} as compared
            on feature_events.source_table = compared.source_table
            and feature_events.record_id = compared.record_id
        where feature_events.customer_id is not null

    ),

    compared_digests as (

        {{ cdp.feature_input_digests_sql('compared_events', with_devices=false) }}

    ),

    appended_customers as (

        {#- inputs grew by exactly the compared events (and the rows behind them) #}
        select changed_inputs.customer_id
        from changed_inputs
        inner join compared_digests
            on changed_inputs.customer_id = compared_digests.customer_id
        inner join {{ previous }} as previous_rows
            on changed_inputs.customer_id = previous_rows.customer_id
        {%- if inputs.customers %}
        inner join {{ inputs.customers }} as customers
            on changed_inputs.customer_id = customers.customer_id
        {%- endif %}
        where changed_inputs.added_rows = compared_digests.input_rows
            and changed_inputs.added_digest = compared_digests.input_digest
            and not exists (
                select 1
                from moved_by_time
                where moved_by_time.customer_id = changed_inputs.customer_id
            )

    ),
{%- else %}

    appended_customers as (

        {{ cdp.empty_select([['customer_id', dbt.type_string()]]) }}

    ),
{%- endif %}

affected_customers as (

    select customer_id from changed_inputs
    except
    select customer_id from appended_customers
    union
    select customer_id from moved_by_time

),

recomputed as (

    {{ recompute_sql }}

),

{%- if compared is not none %}

    added_events as (

        select compared_events.*
        from compared_events
        inner join appended_customers
            on compared_events.customer_id = appended_customers.customer_id

    ),

    added as (

        {#- the features of the added events alone #}
        {{ added_sql }}

    ),

    recent_customers as (

        select distinct added_events.customer_id
        from added_events
        cross join feature_moments
        where added_events.occurred_at < feature_moments.current_at
            and (added_events.event_type in {{ types.purchase }} or added_events.event_type in {{ types.email }})

    ),

    recent as (

        {{ recent_sql }}

    ),

    added_visits as (

        select distinct
            added_events.customer_id,
            added_events.occurred_at
        from added_events
        cross join feature_moments
        where added_events.event_type in {{ types.visit }}
            and added_events.occurred_at < feature_moments.current_at

    ),

    nearby_visits as (

        {#- the other visits within an hour of an added one: all a visit within 30 minutes
            after an added one needs to know whether it starts a session #}
        select distinct
            kept_visits.customer_id,
            kept_visits.occurred_at
        from {{ inputs.events }} as kept_visits
        inner join added_visits
            on kept_visits.customer_id = added_visits.customer_id
            and kept_visits.occurred_at >= {{ dbt.dateadd('hour', -1, 'added_visits.occurred_at') }}
            and kept_visits.occurred_at <= {{ dbt.dateadd('hour', 1, 'added_visits.occurred_at') }}
        cross join feature_moments
        where kept_visits.event_type in {{ types.visit }}
            and kept_visits.occurred_at < feature_moments.current_at
            and not exists (
                select 1
                from {{ compared }} as compared
                where compared.source_table = kept_visits.source_table
                    and compared.record_id = kept_visits.record_id
            )

    ),

    visit_moments as (

        select
            customer_id,
            occurred_at,
            max(was_there) as was_there,
            max(was_added) as was_added
        from (
            select customer_id, occurred_at, 1 as was_there, 0 as was_added from nearby_visits
            union all
            select customer_id, occurred_at, 0 as was_there, 1 as was_added from added_visits
        ) as moments
        group by customer_id, occurred_at

    ),

    ordered_visit_moments as (

        select
            customer_id,
            occurred_at,
            was_there,
            was_added,
            lag(occurred_at) over (partition by customer_id order by occurred_at) as prior_visit_at,
            max(case when was_there = 1 then occurred_at end) over (
                partition by customer_id order by occurred_at rows between unbounded preceding and 1 preceding
            ) as prior_kept_visit_at,
            max(case when was_added = 1 then occurred_at end) over (
                partition by customer_id order by occurred_at rows between unbounded preceding and 1 preceding
            ) as prior_added_visit_at
        from visit_moments

    ),

    session_start_changes as (

        {#- a visit moment starts a session when no visit lies within 30 minutes before it
            (the rule of customer_features_sql); with the added visits and without #}
        select
            customer_id,
            occurred_at,
            case
                when prior_visit_at is null
                    or {{ dbt.datediff('prior_visit_at', 'occurred_at', 'second') }} > 30 * 60 then 1
                else 0
            end
            - case
                when was_there = 1
                    and (prior_kept_visit_at is null
                        or {{ dbt.datediff('prior_kept_visit_at', 'occurred_at', 'second') }} > 30 * 60) then 1
                else 0
            end as start_change
        from ordered_visit_moments
        where was_added = 1
            or (prior_added_visit_at is not null
                and {{ dbt.datediff('prior_added_visit_at', 'occurred_at', 'second') }} <= 30 * 60)

    ),

    session_changes as (

        select
            session_start_changes.customer_id,
            cast(sum(session_start_changes.start_change) as {{ dbt.type_bigint() }}) as sessions
            {%- for days in var('feature_visit_windows_days') %},
            cast(sum(case
                when session_start_changes.occurred_at >= {{ dbt.dateadd('day', -days, 'feature_moments.current_at') }}
                    then session_start_changes.start_change
                else 0
            end) as {{ dbt.type_bigint() }}) as sessions_{{ days }}d
            {%- endfor %}
        from session_start_changes
        cross join feature_moments
        group by session_start_changes.customer_id

    ),

    merged as (

        select
            {%- for column in columns %}
            {{ cdp.merged_feature_column(column, shift) }} as {{ column }}{% if not loop.last %},{% endif %}
            {%- endfor %}
        from {{ previous }} as previous_rows
        inner join appended_customers
            on previous_rows.customer_id = appended_customers.customer_id
        cross join feature_moments
        left join added
            on previous_rows.customer_id = added.customer_id
        left join recent
            on previous_rows.customer_id = recent.customer_id
        left join session_changes
            on previous_rows.customer_id = session_changes.customer_id

    ),
{%- endif %}

kept as (

    select
        {%- for column in columns %}
            {%- if column == 'features_as_of' %}
                feature_moments.current_at as features_as_of
            {%- elif column in shifted %}
                kept_rows.{{ column }} + {{ shift }} as {{ column }}
            {%- else %}
                kept_rows.{{ column }}
            {%- endif %}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ previous }} as kept_rows
    cross join feature_moments
    where not exists (
        select 1
        from affected_customers
        where affected_customers.customer_id = kept_rows.customer_id
    )
    and not exists (
        select 1
        from appended_customers
        where appended_customers.customer_id = kept_rows.customer_id
    )

)

select {{ columns | join(', ') }} from recomputed
{%- if compared is not none %}
union all
select {{ columns | join(', ') }} from merged
{%- endif %}
union all
select {{ columns | join(', ') }} from kept
{% endmacro %}

{#- Where a features table keeps the input digests its last build applied: beside
    int_features__input_digests, named after the table. -#}
{% macro applied_feature_digests_relation(relation) %}
    {%- set digests = ref('int_features__input_digests') -%}
    {{ return(api.Relation.create(database=digests.database, schema=digests.schema,
                                  identifier=relation.identifier ~ '__applied_digests')) }}
{% endmacro %}

{#- A fingerprint of the features SQL apart from its moment: the macro's code, the window vars,
    the sources switched on. Rows kept from a build with another signature would be stale. -#}
{% macro feature_sql_signature() %}
    {{ return(cdp.sql_signature(cdp.customer_features_as_of("'moment'"))) }}
{% endmacro %}

{#- Post-hook of an incremental features table: keep the digests this build applied, with the
    signature of the SQL that applied them (in the table's transaction on Postgres, so the
    two never disagree). -#}
{% macro save_applied_feature_digests(relation) %}
    {%- set applied = cdp.applied_feature_digests_relation(relation) -%}
    drop table if exists {{ applied }};
    create table {{ applied }} as
    select
        digests.*,
        cast('{{ cdp.feature_sql_signature() }}' as {{ dbt.type_string() }}) as feature_sql_signature
    from {{ ref('int_features__input_digests') }} as digests
{% endmacro %}
