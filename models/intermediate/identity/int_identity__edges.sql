{#- Edges of the identity graph with their evidence.
    deterministic: every usable identifier of a record links to the record's anchor; one row
        per linked pair and source table, with how many records carry it and when.
    probabilistic: person profiles the Fellegi-Sunter matcher scored at or above var
        matching_threshold_probability, with the pair's match weight and probability, unless
        their first names agree less than var matching_min_first_name_level: a household
        shares surname, address and phone, never a first name. personal_agreement: the pair
        agrees on one of var identity_personal_comparisons (a partial weight above zero),
        which int_identity__guarded_edges asks of some links. -#}
{%- set known = cdp.matching_comparison_definitions().keys() | list -%}
{%- set compared = cdp.matching_comparisons() | map(attribute='name') | list -%}
{%- set personal = [] -%}
{%- for comparison in var('identity_personal_comparisons') -%}
    {%- if comparison not in known -%}
        {%- do exceptions.raise_compiler_error("dbt_project.yml vars: identity_personal_comparisons lists '"
            ~ comparison ~ "', which is not a comparison; choose among " ~ known | join(', ')) -%}
    {%- endif -%}
    {%- if comparison in compared -%}
        {%- do personal.append('scored_pairs.weight_' ~ comparison ~ ' > 0') -%}
    {%- endif -%}
{%- endfor %}

with record_identifiers as (

    select * from {{ ref('int_identity__record_identifiers') }}

),

identifiers as (

    select * from {{ ref('int_identity__identifiers') }}

),

record_anchors as (

    select * from {{ ref('int_identity__record_anchors') }}

),

scored_pairs as (

    select * from {{ ref('int_matching__scored_pairs') }}

),

profiles as (

    select * from {{ ref('int_matching__profiles') }}

),

linked as (

    select
        record_anchors.anchor_node_id,
        identifiers.node_id,
        record_identifiers.source_table,
        record_identifiers.observed_at
    from record_identifiers
    inner join record_anchors
        on record_identifiers.source_table = record_anchors.source_table
        and record_identifiers.record_id = record_anchors.record_id
    inner join identifiers
        on record_identifiers.identifier_type = identifiers.identifier_type
        and record_identifiers.identifier_value = identifiers.identifier_value
    where not identifiers.is_blocked
        and identifiers.node_id <> record_anchors.anchor_node_id

),

deterministic as (

    select
        anchor_node_id as node_a,
        node_id as node_b,
        source_table,
        'deterministic' as match_type,
        count(*) as record_count,
        min(observed_at) as first_seen_at,
        max(observed_at) as last_seen_at,
        cast(null as double precision) as match_weight,
        cast(null as double precision) as match_probability,
        cast(null as boolean) as personal_agreement
    from linked
    group by anchor_node_id, node_id, source_table

),

probabilistic as (

    select
        nodes_l.node_id as node_a,
        nodes_r.node_id as node_b,
        'matching' as source_table,
        'probabilistic' as match_type,
        cast(1 as {{ dbt.type_bigint() }}) as record_count,
        cast(null as {{ dbt.type_timestamp() }}) as first_seen_at,
        cast(null as {{ dbt.type_timestamp() }}) as last_seen_at,
        scored_pairs.match_weight,
        scored_pairs.match_probability,
        {{ '(' ~ personal | join(' or ') ~ ')' if personal else 'false' }} as personal_agreement
    from scored_pairs
    inner join profiles as profiles_l
        on scored_pairs.profile_id_l = profiles_l.profile_id
    inner join profiles as profiles_r
        on scored_pairs.profile_id_r = profiles_r.profile_id
    inner join identifiers as nodes_l
        on nodes_l.identifier_type = 'person_profile'
        and profiles_l.profile_key = nodes_l.identifier_value
    inner join identifiers as nodes_r
        on nodes_r.identifier_type = 'person_profile'
        and profiles_r.profile_key = nodes_r.identifier_value
    where scored_pairs.match_probability >= {{ var('matching_threshold_probability') }}
        and not nodes_l.is_blocked
        and not nodes_r.is_blocked
        and {{ cdp.first_name_guard('scored_pairs') }}

),

final as (

    select * from deterministic
    union all
    select * from probabilistic

)

select * from final
