{#- Each record's anchor: the strongest identifier it carries that is not blocked. Records
    whose identifiers are all blocked have no anchor and resolve to no customer.

    Incremental, record by record: a build computes again only the anchors of the records
    staged or removed since the last one and of the records carrying an identifier whose
    block status changed (macros/identity/incremental_anchors.sql). -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='sync_all_columns',
    pre_hook="{{ cdp.record_anchors_pre_hook() }}",
    post_hook="{{ cdp.record_anchors_post_hook() }}",
) }}
{%- set plan = cdp.record_anchors_plan() %}

{{ cdp.precomputed_rows(plan, cdp.record_anchor_rows(), plan.anchored) }}
