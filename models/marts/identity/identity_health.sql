{#- How healthy the identity graph is, one row per measure (long form for dashboards):
    customer size distribution, blocked values and the records they touch, guards that
    fired, links found and links followed (the household guard refuses some probabilistic
    ones), and merges and splits in this build. -#}

with customer_ids as {{ cdp.inlined_cte() }} (

    select * from {{ ref('int_identity__customer_ids') }}

),

identifiers as {{ cdp.inlined_cte() }} (

    select * from {{ ref('int_identity__identifiers') }}

),

edges as (

    select * from {{ ref('int_identity__edges') }}

),

guarded_edges as (

    select * from {{ ref('int_identity__guarded_edges') }}

),

resolution as {{ cdp.inlined_cte() }} (

    select * from {{ ref('int_identity__customer_id_resolution') }}

),

sizes as (

    select
        customer_id,
        count(*) as identifier_count
    from customer_ids
    group by customer_id

),

banded as (

    select
        case
            when identifier_count = 1 then '1'
            when identifier_count <= 3 then '2-3'
            when identifier_count <= 10 then '4-10'
            when identifier_count <= 50 then '11-50'
            else '51+'
        end as size_band
    from sizes

),

size_bands as (

    select
        'customers_by_identifier_count' as metric,
        size_band as dimension,
        cast(count(*) as double precision) as metric_value
    from banded
    group by size_band

),

largest as (

    select
        'largest_customer_identifiers' as metric,
        'all' as dimension,
        cast(max(identifier_count) as double precision) as metric_value
    from sizes

),

blocked as (

    select
        'blocked_identifiers' as metric,
        block_reason as dimension,
        cast(count(*) as double precision) as metric_value
    from identifiers
    where is_blocked
    group by block_reason

    union all

    select
        'records_touching_blocked_identifiers' as metric,
        block_reason as dimension,
        cast(sum(record_count) as double precision) as metric_value
    from identifiers
    where is_blocked
    group by block_reason

),

guards as (

    select
        'identifiers_by_assignment' as metric,
        assigned_by as dimension,
        cast(count(*) as double precision) as metric_value
    from customer_ids
    group by assigned_by

),

links as (

    select
        'edges' as metric,
        match_type as dimension,
        cast(count(*) as double precision) as metric_value
    from edges
    group by match_type

    union all

    select
        'edges_followed' as metric,
        match_type as dimension,
        cast(count(*) as double precision) as metric_value
    from guarded_edges
    group by match_type

),

changes as (

    select
        'identifiers_by_id_change' as metric,
        change_type as dimension,
        cast(count(*) as double precision) as metric_value
    from resolution
    group by change_type

    union all

    select
        'customer_ids_retired_by_merge' as metric,
        'this build' as dimension,
        cast(count(distinct previous_customer_id) as double precision) as metric_value
    from resolution
    where change_type = 'merged'

),

final as (

    select * from size_bands
    union all
    select * from largest
    union all
    select * from blocked
    union all
    select * from guards
    union all
    select * from links
    union all
    select * from changes

)

select
    {{ "cast('" ~ run_started_at.strftime('%Y-%m-%d %H:%M:%S') ~ "' as " ~ dbt.type_timestamp() ~ ")" }} as measured_at,
    metric,
    dimension,
    metric_value
from final
