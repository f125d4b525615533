{#- Every identifier every staged record carries: one row per record and identifier. Person
    records also carry their person profile (their normalised name, address, birth date,
    phone and email together), through which probabilistic matches enter the graph.

    Incremental, record by record: a build writes again only the rows of the records staged
    or removed since the last one (macros/identity/incremental_identity.sql). -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='sync_all_columns',
    pre_hook="{{ cdp.record_identifiers_pre_hook() }}",
    post_hook="{{ cdp.record_identifiers_post_hook() }}",
) }}
{%- set plan = cdp.record_identifiers_plan() -%}
{%- for entry in plan.entries %}
-- depends_on: {{ ref(cdp.identity_base_model(entry)) }}
{%- endfor %}

{{ cdp.precomputed_rows(plan, cdp.record_identifier_rows(plan.entries), plan.added) }}
