{#- Edges of the identity graph with their evidence.
    deterministic: every usable identifier of a record links to the record's anchor; one row
        per linked pair and source table, with how many records carry it and when.
    probabilistic: person profiles the Fellegi-Sunter matcher scored at or above var
        matching_threshold_probability, with the pair's match weight and probability, unless
        their first names agree less than var matching_min_first_name_level: a household
        shares surname, address and phone, never a first name. personal_agreement: the pair
        agrees on one of var identity_personal_comparisons (a partial weight above zero),
        which int_identity__guarded_edges asks of some links.

    Incremental, anchor by anchor: a build computes again the deterministic edges of the
    anchors records lost and merges the rows of records that gained an anchor into the kept
    edges (macros/identity/incremental_edges.sql). -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='sync_all_columns',
    pre_hook="{{ cdp.edges_pre_hook() }}",
    post_hook="{{ cdp.edges_post_hook() }}",
) }}
{%- set plan = cdp.edges_plan() %}

{{ cdp.edges_select(plan) }}
