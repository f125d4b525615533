{#- Every person record normalised into the form the matcher compares, with the key of its
    profile: records with identical normalised attributes share one profile and are compared
    once. Records with no name, or a name and nothing else, take no part.

    Incremental, record by record: a build normalises again only the person records staged or
    removed since the last one (macros/matching/incremental_profiles.sql). -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='sync_all_columns',
    pre_hook="{{ cdp.record_profiles_pre_hook() }}",
    post_hook="{{ cdp.record_profiles_post_hook() }}",
) }}
{%- set plan = cdp.record_profiles_plan() -%}
{%- for entry in plan.entries if not var('matching_input_relation') %}
-- depends_on: {{ ref(cdp.identity_base_model(entry)) }}
{%- endfor %}

{{ cdp.record_profile_rows(none if plan.full else plan.changed) }}
