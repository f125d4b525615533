{#- The guarded clusters: every usable identifier with the cluster it belongs to.
      connected   its component breaks no limit and stays whole;
      seed /      in a component with several values of a type limited to one, the seed
      split       values and the identifiers nearest to each;
      ambiguous / equally near to two seeds, or reached by none: stands alone;
      unreached
      over_limit  past its type's limit in the cluster (var identity_type_limits), the
                  weakest values (fewest records, least recently seen) stand alone. -#}
{%- set limits = var('identity_type_limits') %}

with components as (

    select * from {{ ref('int_identity__components') }}

),

seeded_partition as (

    select * from {{ ref('int_identity__seeded_partition') }}

),

identifiers as (

    select * from {{ ref('int_identity__identifiers') }}

),

assigned as (

    select
        components.node_id,
        components.component_id,
        case
            when seeded_partition.node_id is null
                then 'component:' || cast(components.component_id as {{ dbt.type_string() }})
            when seeded_partition.status in ('seed', 'assigned')
                then 'seed:' || cast(seeded_partition.seed_id as {{ dbt.type_string() }})
            else 'node:' || cast(components.node_id as {{ dbt.type_string() }})
        end as cluster_key,
        case
            when seeded_partition.node_id is null then 'connected'
            when seeded_partition.status = 'assigned' then 'split'
            else seeded_partition.status
        end as assigned_by
    from components
    left join seeded_partition
        on components.node_id = seeded_partition.node_id

),

ranked as (

    select
        assigned.node_id,
        assigned.component_id,
        assigned.cluster_key,
        assigned.assigned_by,
        identifiers.identifier_type,
        row_number() over (
            partition by assigned.cluster_key, identifiers.identifier_type
            order by identifiers.record_count desc, identifiers.last_seen_at desc nulls last, assigned.node_id asc
        ) as type_rank,
        case identifiers.identifier_type
            {%- for identifier_type, limit in limits.items() %}
                when '{{ identifier_type }}' then {{ limit }}
            {%- endfor %}
        end as type_limit
    from assigned
    inner join identifiers
        on assigned.node_id = identifiers.node_id

),

final as (

    select
        node_id,
        component_id,
        case
            when type_limit is not null and type_rank > type_limit
                then 'node:' || cast(node_id as {{ dbt.type_string() }})
            else cluster_key
        end as cluster_key,
        case
            when type_limit is not null and type_rank > type_limit then 'over_limit'
            else assigned_by
        end as assigned_by
    from ranked

)

select * from final
