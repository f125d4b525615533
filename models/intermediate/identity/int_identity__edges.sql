{#- Deterministic edges of the identity graph: every usable identifier of a record links to
    the record's anchor. One row per linked pair and source table, with its evidence. -#}

with record_identifiers as (

    select * from {{ ref('int_identity__record_identifiers') }}

),

identifiers as (

    select * from {{ ref('int_identity__identifiers') }}

),

record_anchors as (

    select * from {{ ref('int_identity__record_anchors') }}

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

final as (

    select
        anchor_node_id as node_a,
        node_id as node_b,
        source_table,
        count(*) as record_count,
        min(observed_at) as first_seen_at,
        max(observed_at) as last_seen_at
    from linked
    group by anchor_node_id, node_id, source_table

)

select * from final
