{#-
    Customer features built incrementally: the same rows customer_features_sql gives over every
    customer, computing again only the customers whose features can have changed.

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
    Those customers are computed again from their events; every other row is the previous one
    moved to current_at: features_as_of set, tenure_days and days_since_* increased by the days
    between the two moments (day counts are calendar-day differences on both warehouses, so
    they add up). Everything is computed again on --full-refresh, on the first build, when the
    features SQL changed (its signature: the macro's code, the window vars, the sources switched
    on) or the previous table's columns differ from the SQL's, when the applied digests are
    missing, and when the moment moved back.

    as_of: SQL timestamp expression (as customer_features_as_of).
-#}
{% macro incremental_customer_features(as_of) %}
    {%- set inputs = cdp.feature_inputs() -%}
    {%- set digests = ref('int_features__input_digests') -%}
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
    {%- set affected_events -%}
        (
            select feature_events.*
            from {{ inputs.events }} as feature_events
            inner join affected_customers
                on feature_events.customer_id = affected_customers.customer_id
        ) as affected_feature_events
    {%- endset -%}
    {{ return(cdp.incremental_customer_features_sql(
        as_of, previous, applied, digests, inputs, columns, shifted, edges | unique | list,
        cdp.customer_features_as_of(as_of, events=affected_events))) }}
{% endmacro %}

{% macro incremental_customer_features_sql(as_of, previous, applied, digests, inputs, columns, shifted, edges,
                                           recompute_sql) %}
with feature_moments as (

    select
        max(previous_rows.features_as_of) as previous_at,
        min(previous_rows.features_as_of) as earliest_previous_at,
        {{ as_of }} as current_at
    from {{ previous }} as previous_rows

),

changed_inputs as (

    select coalesce(current_digests.customer_id, applied_digests.customer_id) as customer_id
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

affected_customers as (

    select customer_id from changed_inputs
    union
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

recomputed as (

    {{ recompute_sql }}

),

kept as (

    select
        {%- for column in columns %}
            {%- if column == 'features_as_of' %}
                feature_moments.current_at as features_as_of
            {%- elif column in shifted %}
                kept_rows.{{ column }}
                + {{ dbt.datediff('feature_moments.previous_at', 'feature_moments.current_at', 'day') }} as {{ column }}
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

)

select {{ columns | join(', ') }} from recomputed
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
