{#- Every touchpoint as one stream of events, before attribution to customers.

    Incremental, record by record: a build writes again only the events of the records staged
    or removed since the last one (macros/events/incremental_unioned.sql). -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='sync_all_columns',
    pre_hook="{{ cdp.unioned_events_pre_hook() }}",
    post_hook="{{ cdp.unioned_events_post_hook() }}",
) }}
{%- set plan = cdp.unioned_events_plan() -%}
{%- for entry in plan.entries %}
-- depends_on: {{ ref(cdp.identity_base_model(entry)) }}
{%- endfor %}

{{ cdp.unioned_event_rows(plan.entries, none if plan.full else plan.changed) }}
