{#- Persistent customer ids. Every identifier keeps the customer id it had in the previous
    build (the map, int_identity__customer_id_map, which full refreshes leave alone) unless
    its cluster changed:
      merge  when a cluster holds identifiers of several previous customers, the oldest id
             survives (created first, then first seen, then smallest);
      split  when a previous customer's identifiers fall into several clusters, the cluster
             holding most of them keeps its id, the others get other ids;
      new    a cluster with no previous customer gets a new id, derived from its smallest
             identifier so that a first build is the same wherever it runs.
    One row per identifier with its previous and current customer id and what happened. -#}
{%- set previous_map = adapter.get_relation(database=this.database, schema=this.schema,
                                            identifier='int_identity__customer_id_map') if execute else none %}
{%- set run_time = "cast('" ~ run_started_at.strftime('%Y-%m-%d %H:%M:%S') ~ "' as " ~ dbt.type_timestamp() ~ ")" %}

with clusters as (

    select * from {{ ref('int_identity__clusters') }}

),

identifiers as (

    select * from {{ ref('int_identity__identifiers') }}

),

previous as (

    {%- if previous_map is not none %}
    select
        identifier_type,
        identifier_value,
        customer_id,
        customer_created_at,
        customer_first_seen_at
    from {{ previous_map }}
    {%- else %}
    {{ cdp.empty_select([
        ['identifier_type', dbt.type_string()],
        ['identifier_value', dbt.type_string()],
        ['customer_id', dbt.type_string()],
        ['customer_created_at', dbt.type_timestamp()],
        ['customer_first_seen_at', dbt.type_timestamp()],
    ]) }}
    {%- endif %}

),

current_identifiers as (

    select
        clusters.node_id,
        clusters.cluster_key,
        clusters.assigned_by,
        identifiers.identifier_type,
        identifiers.identifier_value,
        identifiers.first_seen_at,
        previous.customer_id as previous_customer_id,
        previous.customer_created_at as previous_created_at,
        previous.customer_first_seen_at as previous_first_seen_at
    from clusters
    inner join identifiers
        on clusters.node_id = identifiers.node_id
    left join previous
        on identifiers.identifier_type = previous.identifier_type
        and identifiers.identifier_value = previous.identifier_value

),

id_overlaps as (

    select
        cluster_key,
        previous_customer_id,
        min(previous_created_at) as created_at,
        min(previous_first_seen_at) as first_seen_at,
        count(*) as shared_identifiers
    from current_identifiers
    where previous_customer_id is not null
    group by cluster_key, previous_customer_id

),

homes as (

    select *
    from (
        select
            id_overlaps.*,
            row_number() over (
                partition by id_overlaps.previous_customer_id
                order by id_overlaps.shared_identifiers desc, id_overlaps.cluster_key asc
            ) as home_rank
        from id_overlaps
    ) as ranked
    where home_rank = 1

),

survivors as (

    select *
    from (
        select
            homes.*,
            row_number() over (
                partition by homes.cluster_key
                order by homes.created_at, homes.first_seen_at nulls last, homes.previous_customer_id
            ) as age_rank
        from homes
    ) as ranked
    where age_rank = 1

),

issued_ids as (

    select distinct customer_id from previous

),

cluster_facts as (

    select
        cluster_key,
        min(identifier_type || ':' || identifier_value) as smallest_identifier,
        min(first_seen_at) as first_seen_at
    from current_identifiers
    group by cluster_key

),

fresh as (

    select
        cluster_facts.cluster_key,
        cluster_facts.first_seen_at,
        'cus_' || substr({{ dbt.hash('cluster_facts.smallest_identifier') }}, 1, 20) as plain_id,
        'cus_' || substr({{ dbt.hash("cluster_facts.smallest_identifier || '|" ~ invocation_id ~ "'") }}, 1, 20)
            as salted_id
    from cluster_facts

),

cluster_ids as (

    select
        fresh.cluster_key,
        coalesce(
            survivors.previous_customer_id,
            case when issued_ids.customer_id is null then fresh.plain_id else fresh.salted_id end
        ) as customer_id,
        coalesce(survivors.created_at, {{ run_time }}) as customer_created_at,
        coalesce(survivors.first_seen_at, fresh.first_seen_at) as customer_first_seen_at
    from fresh
    left join survivors
        on fresh.cluster_key = survivors.cluster_key
    left join issued_ids
        on fresh.plain_id = issued_ids.customer_id

),

living_ids as (

    select distinct customer_id from cluster_ids

),

final as (

    select
        current_identifiers.node_id,
        current_identifiers.identifier_type,
        current_identifiers.identifier_value,
        current_identifiers.cluster_key,
        current_identifiers.assigned_by,
        current_identifiers.previous_customer_id,
        cluster_ids.customer_id,
        cluster_ids.customer_created_at,
        cluster_ids.customer_first_seen_at,
        case
            when current_identifiers.previous_customer_id is null then 'new'
            when current_identifiers.previous_customer_id = cluster_ids.customer_id then 'kept'
            when living_ids.customer_id is not null then 'split'
            else 'merged'
        end as change_type,
        {{ run_time }} as resolved_at
    from current_identifiers
    inner join cluster_ids
        on current_identifiers.cluster_key = cluster_ids.cluster_key
    left join living_ids
        on current_identifiers.previous_customer_id = living_ids.customer_id

)

select * from final
