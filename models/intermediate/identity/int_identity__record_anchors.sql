{#- Each record's anchor: the strongest identifier it carries that is not blocked. Records
    whose identifiers are all blocked have no anchor and resolve to no customer. -#}

with record_identifiers as (

    select * from {{ ref('int_identity__record_identifiers') }}

),

identifiers as (

    select * from {{ ref('int_identity__identifiers') }}

),

usable as (

    select
        record_identifiers.source_table,
        record_identifiers.record_id,
        record_identifiers.observed_at,
        identifiers.node_id,
        row_number() over (
            partition by record_identifiers.source_table, record_identifiers.record_id
            order by identifiers.type_priority, identifiers.node_id
        ) as strength_rank
    from record_identifiers
    inner join identifiers
        on record_identifiers.identifier_type = identifiers.identifier_type
        and record_identifiers.identifier_value = identifiers.identifier_value
    where not identifiers.is_blocked

),

final as (

    select
        source_table,
        record_id,
        observed_at,
        node_id as anchor_node_id
    from usable
    where strength_rank = 1

)

select * from final
