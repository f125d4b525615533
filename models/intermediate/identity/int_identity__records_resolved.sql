{#- Every staged record that carries a usable identifier, with its customer (the customer
    of the record's anchor identifier).

    Incremental, record by record: a build computes again only the records whose anchor was
    computed again and those anchored on a node whose customer changed
    (macros/identity/incremental_resolution.sql). -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='sync_all_columns',
    pre_hook="{{ cdp.records_resolved_pre_hook() }}",
    post_hook="{{ cdp.records_resolved_post_hook() }}",
) }}
{%- set plan = cdp.records_resolved_plan() %}

{{ cdp.resolved_record_rows(none if plan.full else plan.affected) }}
