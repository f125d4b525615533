{#- customer_events by changed record.

    An event's row depends on its source record and on its record's customer (and on the
    deleted customers, whose events post-hooks remove). So a build compares with the stored
    rows only the events of
      - the records int_identity__records_resolved computed again (its queue resolved_records:
        records staged or removed, records whose anchor or anchor's customer changed),
      - the records of customers no longer listed as deleted (their events come back),
    and every other event keeps its row. It compares every event, as before, on its first
    build, on --full-refresh, when the queue says everything (an identity table computed
    every row), when its list of deleted customers or its state is missing, when its SQL's
    signature changed, and when an event source is not an identity source (its changes would
    go unseen). -#}

{#- Rows of customer_events as this build attributes them: of every event, or (affected: a
    relation of source_table, record_id) of those records only. -#}
{% macro customer_event_rows(affected=none) %}
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
    from {{ ref('int_events__unioned') }} as events
    left join {{ ref('int_identity__records_resolved') }} as records_resolved
        on events.source_table = records_resolved.source_table
        and events.record_id = records_resolved.record_id
    left join {{ ref('int_privacy__deleted_customers') }} as deleted_customers
        on records_resolved.customer_id = deleted_customers.customer_id
    where deleted_customers.customer_id is null
        {{- cdp.only_changed_records(affected, 'events.source_table', 'events.record_id') }}
{% endmacro %}

{% macro customer_events_plan() %}
    {%- set signature = cdp.sql_signature(cdp.customer_event_rows()) -%}
    {%- set plan = cdp.identity_build_plan(signature) -%}
    {%- set queue = cdp.identity_queue(ref('int_identity__record_identifiers'), 'resolved_records') -%}
    {#- kept in the intermediate schema: marts hold no trace of deleted customers #}
    {%- set deleted = cdp.identity_queue(ref('int_identity__record_identifiers'), 'customer_events_deleted') -%}
    {%- set identity_models = cdp.identity_record_sources() | map(attribute='model') | list -%}
    {%- if not plan.full -%}
        {%- for entry in cdp.enabled_entries(cdp.event_sources()) if entry.model not in identity_models -%}
            {%- do plan.update({'full': true}) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if not plan.full and (cdp.identity_queue_demands_everything(queue)
                              or not cdp.relation_exists(deleted)) -%}
        {%- do plan.update({'full': true}) -%}
    {%- endif -%}
    {%- do plan.update({'signature': signature, 'queue': queue, 'deleted': deleted,
                        'affected': cdp.customer_events_compared_relation()}) -%}
    {{ return(plan) }}
{% endmacro %}

{#- The records whose events the last build of customer_events compared (source_table,
    record_id), kept in the intermediate schema until its next build: every event that build
    wrote is among them. Missing when that build compared every event. Incremental feature
    builds read it (macros/features/incremental_features.sql). -#}
{% macro customer_events_compared_relation() %}
    {{ return(cdp.identity_queue(ref('int_identity__record_identifiers'), 'customer_events_compared')) }}
{% endmacro %}

{% macro customer_events_pre_hook() -%}
    {%- set plan = cdp.customer_events_plan() -%}
    drop table if exists {{ plan.affected }}
    {%- if not plan.full %};
    create table {{ plan.affected }} as
    select distinct source_table, record_id
    from (
        select source_table, record_id
        from {{ plan.queue }}
        union all
        select records_resolved.source_table, records_resolved.record_id
        from {{ ref('int_identity__records_resolved') }} as records_resolved
        inner join (
            select customer_id from {{ plan.deleted }}
            except
            select customer_id from {{ ref('int_privacy__deleted_customers') }}
        ) as restored
            on records_resolved.customer_id = restored.customer_id
    ) as affected
    {%- endif %}
{%- endmacro %}

{#- Post-hook: remove the events of deleted customers and of vanished records, keep the
    copies the next build compares with, empty the queue. The list of compared records stays
    until the next build's pre-hook. -#}
{% macro customer_events_post_hook() -%}
    {%- set plan = cdp.customer_events_plan() -%}
    {#- the pre-hook made the list of affected records when this build compared only those #}
    {%- set affected = plan.affected if cdp.relation_exists(plan.affected) else none %}
    {#- no build writes an event of a customer listed as deleted, and every build removes the
        events of the customers listed then: only the customers listed since the last build
        can have events here (all listed ones when that list is missing) #}
    delete from {{ this }}
    where customer_id in (
        select customer_id from {{ ref('int_privacy__deleted_customers') }}
        {%- if cdp.relation_exists(plan.deleted) %}
        except
        select customer_id from {{ plan.deleted }}
        {%- endif %}
    );
    {{ cdp.delete_vanished_events(this, ref('int_events__unioned'), affected) }};
    drop table if exists {{ plan.deleted }};
    create table {{ plan.deleted }} as
    select customer_id from {{ ref('int_privacy__deleted_customers') }};
    {%- if cdp.relation_exists(plan.queue) %}
    delete from {{ plan.queue }};
    {%- endif %}
    {{ cdp.save_identity_state(plan.signature) }}
{%- endmacro %}
