{#- Persistent customer ids. Every identifier keeps the customer id it had in the previous
    build (the map, int_identity__customer_id_map, which full refreshes leave alone) unless
    its cluster changed:
      merge  when a cluster holds identifiers of several previous customers, the oldest id
             survives (created first, then first seen, then smallest);
      split  when a previous customer's identifiers fall into several clusters, the cluster
             holding most of them keeps its id, the others get other ids;
      new    a cluster with no previous customer gets a new id, derived from its smallest
             identifier so that a first build is the same wherever it runs.
    One row per identifier with its previous and current customer id and what happened.

    Incremental, cluster by cluster: a build decides again only the clusters whose
    identifiers changed and those competing with them for a previous id
    (macros/identity/incremental_customer_ids.sql). -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='sync_all_columns',
    pre_hook="{{ cdp.customer_id_resolution_pre_hook() }}",
    post_hook="{{ cdp.customer_id_resolution_post_hook() }}",
) }}
{%- set plan = cdp.customer_id_resolution_plan() %}

{{ cdp.customer_id_resolution_rows(none if plan.full else plan.affected) }}
