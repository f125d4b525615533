{#- One row per distinct identifier (a node of the identity graph), with the evidence that
    decides whether it may link records:
      blocklist            a placeholder value from seeds/identity_blocklist.csv;
      shared_across_<type> seen on records holding several values of a type limited to one
                           (var identity_type_limits): a store kiosk, a family tablet;
      too_many_people /    an email or phone written under many surnames, or under first
      shared_by_people     names too different to be one person (int_matching__shared_values);
      household_email      a family inbox by its spelling (smithfamily@).
    Node ids are stable: a hash of type and value (macro stable_bigint_id).

    Incremental: a build computes again only the identifiers whose records changed and those
    whose block reason can have changed otherwise, and merges the rows new records added into
    the statistics of identifiers that only gained rows (macros/identity/incremental_identity.sql). -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='sync_all_columns',
    pre_hook="{{ cdp.identifiers_pre_hook() }}",
    post_hook="{{ cdp.identifiers_post_hook() }}",
) }}
{%- set plan = cdp.identifiers_plan() %}

{{ cdp.identifiers_select(plan) }}
