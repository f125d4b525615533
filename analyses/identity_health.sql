-- Identity health at a glance, long form for a dashboard: the latest build's measures from
-- identity_health (customer sizes, blocked identifiers, guards, edges, id changes) next to
-- what the graph holds per identifier type today (customer_identifiers): identifiers, the
-- customers holding one, how many joined probabilistically and the most any customer holds.
with identity_health as (

    select * from {{ ref('identity_health') }}

),

customer_identifiers as (

    select * from {{ ref('customer_identifiers') }}

),

latest_build as (

    select max(measured_at) as measured_at
    from identity_health

),

build_measures as (

    select
        'build' as measure_source,
        identity_health.metric,
        identity_health.dimension,
        identity_health.metric_value
    from identity_health
    inner join latest_build
        on identity_health.measured_at = latest_build.measured_at

),

per_customer_type as (

    select
        customer_id,
        identifier_type,
        count(*) as identifiers,
        sum(case when match_type = 'probabilistic' then 1 else 0 end) as probabilistic_identifiers
    from customer_identifiers
    group by customer_id, identifier_type

),

type_summary as (

    select
        identifier_type,
        sum(identifiers) as identifiers,
        count(*) as customers,
        sum(probabilistic_identifiers) as probabilistic_identifiers,
        max(identifiers) as most_per_customer
    from per_customer_type
    group by identifier_type

),

graph_measures as (

    select
        'graph' as measure_source,
        'identifiers_by_type' as metric,
        identifier_type as dimension,
        cast(identifiers as double precision) as metric_value
    from type_summary

    union all

    select
        'graph' as measure_source,
        'customers_holding_type' as metric,
        identifier_type as dimension,
        cast(customers as double precision) as metric_value
    from type_summary

    union all

    select
        'graph' as measure_source,
        'probabilistic_identifiers_by_type' as metric,
        identifier_type as dimension,
        cast(probabilistic_identifiers as double precision) as metric_value
    from type_summary

    union all

    select
        'graph' as measure_source,
        'most_identifiers_of_type_in_one_customer' as metric,
        identifier_type as dimension,
        cast(most_per_customer as double precision) as metric_value
    from type_summary

),

final as (

    select * from build_measures
    union all
    select * from graph_measures

)

select * from final
order by measure_source, metric, dimension
