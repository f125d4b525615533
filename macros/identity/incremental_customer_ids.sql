{#-
    int_identity__customer_id_resolution cluster by cluster.

    A customer id is decided per cluster, from the previous ids (int_identity__customer_id_map)
    of the cluster's identifiers. A cluster whose identifiers are the ones it had at the last
    build keeps its id, so a build decides again only the clusters that changed:
      changed nodes   identifiers now in another cluster (or assigned another way) than at the
                      last build, new ones, and those gone from the clusters;
      affected        every identifier of a cluster holding a changed node (by its key now or
                      at the last build), and of every cluster holding an identifier whose
                      previous id one of those carries: a previous id's identifiers compete for
                      it (the part holding most keeps it), so they are decided together.
    At the last build each cluster got one id and no other cluster got it, so a cluster
    outside that set has one previous id, held by no decided cluster: it keeps it, as a build
    deciding every cluster would say. Its rows stay; the rows the last build marked new,
    merged or split become kept (their previous id is now their id). resolved_at says when a
    row's cluster was last decided.

    Everything is decided again on --full-refresh, on the first build, when the kept state is
    missing or the SQL's signature changed, and when int_identity__customer_id_map has not
    applied the last build of this table (its previous ids would be stale).
-#}

{#- Rows of int_identity__customer_id_resolution: of every identifier, or (affected: a relation
    of node_id) of those only. The map is read when it exists (for_signature: as if it did, so
    that the first build keeps the signature of the later ones). -#}
{% macro customer_id_resolution_rows(affected=none, for_signature=false) %}
{%- set map_relation = cdp.customer_id_map_relation() %}
{%- set previous_map = map_relation if for_signature or cdp.relation_exists(map_relation) else none %}
{%- set run_time = cdp.run_started_at_sql() %}

with clusters as {% if affected is not none %}{{ cdp.materialized_cte() }} {% endif %}(

    select * from {{ ref('int_identity__clusters') }} as clusters
    {%- if affected is not none %}
    where clusters.node_id in (select node_id from {{ affected }})
    {%- endif %}

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

{#- ids ever issued that a new cluster's plain id would repeat -#}
issued_ids as (

    select distinct previous.customer_id
    from previous
    inner join fresh
        on previous.customer_id = fresh.plain_id

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
{% endmacro %}

{#- int_identity__customer_id_map, named rather than ref'd: it is built from this table. -#}
{% macro customer_id_map_relation() %}
    {{ return(api.Relation.create(database=this.database, schema=this.schema,
                                  identifier='int_identity__customer_id_map', type='table')) }}
{% endmacro %}

{#- The state int_identity__customer_id_map keeps: the build of the resolution it applied. -#}
{% macro customer_id_map_state() %}
    {{ return(cdp.identity_state_relation(cdp.customer_id_map_relation())) }}
{% endmacro %}

{% macro customer_id_resolution_plan() %}
    {#- the SQL's fingerprint, without what differs by build (the run's moment and id) -#}
    {%- set signature = cdp.sql_signature(cdp.customer_id_resolution_rows(for_signature=true) | replace(invocation_id, '')
                                          | replace(cdp.run_started_at_sql(), '')) -%}
    {%- set plan = cdp.identity_build_plan(signature) -%}
    {%- if not plan.full -%}
        {#- the map must have applied this table's last build -#}
        {%- set map_state = cdp.customer_id_map_state() -%}
        {%- set state = cdp.identity_state_relation(this) -%}
        {%- if not cdp.relation_exists(map_state) -%}
            {%- do plan.update({'full': true}) -%}
        {%- else -%}
            {%- set applied = run_query('select (select max(applied_at) from ' ~ map_state ~ ') = (select max(applied_at) from '
                                        ~ state ~ ')').rows[0][0] -%}
            {%- if not applied -%}
                {%- do plan.update({'full': true}) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
    {%- do plan.update({'signature': signature,
                        'changed': cdp.work_relation(this, 'changed_nodes'),
                        'affected': cdp.work_relation(this, 'affected')}) -%}
    {{ return(plan) }}
{% endmacro %}

{% macro customer_id_resolution_pre_hook() -%}
    {%- set plan = cdp.customer_id_resolution_plan() -%}
    {%- set clusters = ref('int_identity__clusters') -%}
    drop table if exists {{ plan.changed }};
    drop table if exists {{ plan.affected }};
    {%- if plan.full %}
        {%- if is_incremental() %}
    delete from {{ this }};
        {%- endif %}
    {%- else %}
    create table {{ plan.changed }} as
    select
        coalesce(now_nodes.node_id, kept.node_id) as node_id,
        now_nodes.cluster_key as now_key,
        kept.cluster_key as kept_key
    from {{ clusters }} as now_nodes
    full outer join {{ this }} as kept
        on now_nodes.node_id = kept.node_id
    where now_nodes.node_id is null
        or kept.node_id is null
        or now_nodes.cluster_key <> kept.cluster_key
        or now_nodes.assigned_by <> kept.assigned_by;
    create table {{ plan.affected }} as
    with changed_keys as (
        select now_key as cluster_key from {{ plan.changed }} where now_key is not null
        union
        select kept_key as cluster_key from {{ plan.changed }} where kept_key is not null
    ),

    changed_clusters as (
        select clusters.node_id
        from {{ clusters }} as clusters
        inner join changed_keys
            on clusters.cluster_key = changed_keys.cluster_key
    ),

    {#- previous ids the decided clusters' identifiers carry, and every cluster now holding an
        identifier that carried one of them at the last build -#}
    contested_ids as (
        select distinct previous.customer_id
        from changed_clusters
        inner join {{ ref('int_identity__identifiers') }} as identifiers
            on changed_clusters.node_id = identifiers.node_id
        inner join {{ cdp.customer_id_map_relation() }} as previous
            on identifiers.identifier_type = previous.identifier_type
            and identifiers.identifier_value = previous.identifier_value
    ),

    contesting_keys as (
        select distinct clusters.cluster_key
        from {{ this }} as kept
        inner join contested_ids
            on kept.customer_id = contested_ids.customer_id
        inner join {{ clusters }} as clusters
            on kept.node_id = clusters.node_id
    )

    select node_id from changed_clusters
    union
    select clusters.node_id
    from {{ clusters }} as clusters
    inner join contesting_keys
        on clusters.cluster_key = contesting_keys.cluster_key;
    delete from {{ this }}
    where node_id in (select node_id from {{ plan.affected }})
        or node_id in (select node_id from {{ plan.changed }});
    update {{ this }}
    set previous_customer_id = customer_id, change_type = 'kept'
    where change_type <> 'kept'
    {%- endif %}
{%- endmacro %}

{% macro customer_id_resolution_post_hook() -%}
    {%- set plan = cdp.customer_id_resolution_plan() -%}
    {{- cdp.log_incremental_scope(plan, {'identifiers whose cluster changed': plan.changed,
                                         'identifiers decided again': plan.affected}) }}
    drop table if exists {{ plan.changed }};
    drop table if exists {{ plan.affected }};
    {{ cdp.save_identity_state(plan.signature) }}
{%- endmacro %}
