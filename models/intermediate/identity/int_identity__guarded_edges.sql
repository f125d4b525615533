{#- The edges the identity graph follows: every deterministic edge, and the probabilistic
    ones the household guard lets through. Two parts of the graph that are each tied by shared
    values alone (deterministic components) and each already hold a value of one of var
    identity_established_types (an email address of their own) are two people living at one
    address as often as one person with two addresses: a probabilistic edge joins them only
    when the profiles also agree on something personal (var identity_personal_comparisons:
    birth date, phone, email), not on name and address alone. Refused edges stay listed in
    int_identity__edges and are counted in identity_health. -#}

with edges as (

    select * from {{ ref('int_identity__edges') }}

),

deterministic_components as {{ cdp.inlined_cte() }} (

    select * from {{ ref('int_identity__deterministic_components') }}

),

identifiers as (

    select * from {{ ref('int_identity__identifiers') }}

),

established as (

    select distinct deterministic_components.component_id
    from deterministic_components
    inner join identifiers
        on deterministic_components.node_id = identifiers.node_id
    where identifiers.identifier_type in ({{ cdp.sql_string_list(var('identity_established_types')) }})
        and not identifiers.is_blocked

),

final as (

    select
        edges.node_a,
        edges.node_b,
        edges.source_table,
        edges.match_type,
        edges.record_count,
        edges.first_seen_at,
        edges.last_seen_at,
        edges.match_weight,
        edges.match_probability
    from edges
    inner join deterministic_components as components_a
        on edges.node_a = components_a.node_id
    inner join deterministic_components as components_b
        on edges.node_b = components_b.node_id
    left join established as established_a
        on components_a.component_id = established_a.component_id
    left join established as established_b
        on components_b.component_id = established_b.component_id
    where edges.match_type = 'deterministic'
        or components_a.component_id = components_b.component_id
        or established_a.component_id is null
        or established_b.component_id is null
        or edges.personal_agreement

)

select * from final
