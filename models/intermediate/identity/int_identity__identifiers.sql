{#- One row per distinct identifier (a node of the identity graph), with the evidence that
    decides whether it may link records: the blocklist seed and the shared-value rule. -#}

with record_identifiers as (

    select * from {{ ref('int_identity__record_identifiers') }}

),

blocklist as (

    select * from {{ ref('identity_blocklist') }}

),

identifier_stats as (

    select
        identifier_type,
        identifier_value,
        min(observed_at) as first_seen_at,
        max(observed_at) as last_seen_at,
        count(*) as record_count,
        count(distinct source_table) as source_count
    from record_identifiers
    group by identifier_type, identifier_value

),

user_id_records as (

    select
        source_table,
        record_id,
        identifier_value as user_id
    from record_identifiers
    where identifier_type = 'user_id'

),

linked_user_ids as (

    select
        record_identifiers.identifier_type,
        record_identifiers.identifier_value,
        count(distinct user_id_records.user_id) as linked_user_id_count
    from record_identifiers
    inner join user_id_records
        on record_identifiers.source_table = user_id_records.source_table
        and record_identifiers.record_id = user_id_records.record_id
    where record_identifiers.identifier_type <> 'user_id'
    group by record_identifiers.identifier_type, record_identifiers.identifier_value

),

final as (

    select
        cast(dense_rank() over (
            order by identifier_stats.identifier_type, identifier_stats.identifier_value
        ) as {{ dbt.type_bigint() }}) as node_id,
        identifier_stats.identifier_type,
        identifier_stats.identifier_value,
        {{ cdp.identifier_priority('identifier_stats.identifier_type') }} as type_priority,
        identifier_stats.first_seen_at,
        identifier_stats.last_seen_at,
        identifier_stats.record_count,
        identifier_stats.source_count,
        coalesce(linked_user_ids.linked_user_id_count, 0) as linked_user_id_count,
        case
            when blocklist.identifier_value is not null then 'blocklist'
            when coalesce(linked_user_ids.linked_user_id_count, 0) > {{ var('identity_max_user_ids_per_value') }}
                then 'shared_across_user_ids'
        end as block_reason
    from identifier_stats
    left join linked_user_ids
        on identifier_stats.identifier_type = linked_user_ids.identifier_type
        and identifier_stats.identifier_value = linked_user_ids.identifier_value
    left join blocklist
        on identifier_stats.identifier_type = blocklist.identifier_type
        and identifier_stats.identifier_value = blocklist.identifier_value

)

select
    *,
    block_reason is not null as is_blocked
from final
