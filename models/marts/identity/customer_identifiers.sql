{#- The identity graph as analysts and syncs read it: every identifier of every customer,
    where it was seen, and how it joined the customer (customers who asked to be deleted aside).
      deterministic  tied to the customer's core by identifiers shared on records;
      probabilistic  joined through a person-profile match; evidence names the strongest
                     such match (its match weight and probability). -#}

with customer_ids as (

    select * from {{ ref('int_identity__customer_ids') }}

),

identifiers as (

    select * from {{ ref('int_identity__identifiers') }}

),

deterministic_components as (

    select * from {{ ref('int_identity__deterministic_components') }}

),

edges as {{ cdp.inlined_cte() }} (

    select * from {{ ref('int_identity__guarded_edges') }}

),

deleted_customers as (

    select * from {{ ref('int_privacy__deleted_customers') }}

),

placed as (

    select
        customer_ids.customer_id,
        customer_ids.node_id,
        customer_ids.assigned_by,
        deterministic_components.component_id as deterministic_component_id
    from customer_ids
    inner join deterministic_components
        on customer_ids.node_id = deterministic_components.node_id

),

core_sizes as (

    select
        customer_id,
        deterministic_component_id,
        count(*) as identifier_count
    from placed
    group by customer_id, deterministic_component_id

),

cores as (

    select *
    from (
        select
            core_sizes.*,
            row_number() over (
                partition by core_sizes.customer_id
                order by core_sizes.identifier_count desc, core_sizes.deterministic_component_id asc
            ) as size_rank
        from core_sizes
    ) as ranked
    where size_rank = 1

),

probabilistic_ends as (

    select
        node_a as node_id,
        match_probability,
        match_weight
    from edges
    where match_type = 'probabilistic'

    union all

    select
        node_b as node_id,
        match_probability,
        match_weight
    from edges
    where match_type = 'probabilistic'

),

probabilistic_evidence as (

    select
        placed.deterministic_component_id,
        max(probabilistic_ends.match_probability) as match_probability,
        max(probabilistic_ends.match_weight) as match_weight
    from probabilistic_ends
    inner join placed
        on probabilistic_ends.node_id = placed.node_id
    group by placed.deterministic_component_id

),

final as (

    select
        placed.customer_id,
        identifiers.identifier_type,
        identifiers.identifier_value,
        identifiers.source_tables,
        identifiers.record_count,
        identifiers.first_seen_at,
        identifiers.last_seen_at,
        case
            when cores.deterministic_component_id is not null then 'deterministic'
            else 'probabilistic'
        end as match_type,
        placed.assigned_by,
        case
            when cores.deterministic_component_id is null
                then probabilistic_evidence.match_probability
        end as evidence_match_probability,
        case
            when cores.deterministic_component_id is null
                then probabilistic_evidence.match_weight
        end as evidence_match_weight
    from placed
    inner join identifiers
        on placed.node_id = identifiers.node_id
    left join cores
        on placed.customer_id = cores.customer_id
        and placed.deterministic_component_id = cores.deterministic_component_id
    left join probabilistic_evidence
        on placed.deterministic_component_id = probabilistic_evidence.deterministic_component_id
    left join deleted_customers
        on placed.customer_id = deleted_customers.customer_id
    where deleted_customers.customer_id is null

)

select * from final
