{{ config(materialized='connected_components', versioned=true) }}
-- depends_on: {{ ref('int_matching__parameters') }}

{# Profiles clustered by the matcher alone: connected components of the pairs at or above
    var matching_threshold_probability. When the trained model says true matches almost never
    disagree on first names (m of the first_name "else" level below
    var matching_guard_max_first_name_disagreement), pairs whose first names disagree are not
    clustered whatever their weight: such weight comes from fields a household shares
    (surname, address, postcode, city), which Fellegi-Sunter counts as independent evidence.
    The identity graph applies that guard always (int_identity__edges); this model serves
    standalone evaluation (`cdp eval-matching`). #}
{%- set guard = namespace(on=false) %}
{%- if execute and 'first_name' in var('matching_columns') %}
    {%- set disagreement = run_query(
        "select m_probability from " ~ ref('int_matching__parameters')
        ~ " where comparison_name = 'first_name' and gamma = 0").columns[0].values() %}
    {%- set guard.on = disagreement | length > 0
        and (disagreement[0] | float) < var('matching_guard_max_first_name_disagreement') | float %}
    {{ log('matching clusters: first-name guard ' ~ ('on' if guard.on else 'off') ~ ' (m of first-name '
           ~ 'disagreement ' ~ (disagreement[0] if disagreement else 'n/a') ~ ')', info=true) }}
{%- endif %}

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
        {%- if guard.on %}
        and {{ cdp.first_name_guard('scored_pairs') }}
        {%- endif %}

    union all

    select
        profile_id as node_a,
        profile_id as node_b
    from profiles

)

select * from final
