{{ config(materialized='connected_components') }}

{#- Profiles clustered by the matcher alone: connected components of the pairs at or above
    var matching_threshold_probability. The identity graph uses those pairs as edges under
    its guards instead (the first-name guard against households among them); this model
    serves standalone evaluation (`cdp eval-matching`). -#}

with scored_pairs as (

    select * from {{ ref('int_matching__scored_pairs') }}

),

profiles as (

    select * from {{ ref('int_matching__profiles') }}

),

final as (

    select
        profile_id_l as node_a,
        profile_id_r as node_b
    from scored_pairs
    where match_probability >= {{ var('matching_threshold_probability') }}

    union all

    select
        profile_id as node_a,
        profile_id as node_b
    from profiles

)

select * from final
