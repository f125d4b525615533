{#- int_identity__edges built anchor by anchor (see macros/identity/incremental_identity.sql).

    A deterministic edge sums the records anchored on its node_a that carry its node_b: every
    record adds its own rows to the groups of its anchor. So a build starts from the
    anchor_changes queue that int_identity__record_anchors fills (each record whose anchor it
    computed again, with the anchor it lost and the one it has now) and
      computes again, from all their records, the edges of the anchors records lost (a record
          changed in place, removed, or re-anchored because an identifier's block status
          changed: what it added to its old anchor's edges must go);
      merges into the kept edges the rows of the other records (new records and records that
          had no anchor): counts added, first and last seen widened, the same values a
          computation from all records gives.
    Probabilistic edges come from the matcher's scored pairs, which it scores again each build:
    they are computed again, every one. -#}

{#- The queue between record_anchors and edges: the anchors of the records record_anchors
    computed again; lost rows carry the anchor a record had before, the others the anchor it
    has now. -#}
{% macro anchor_changes_queue(records) %}
    {{ return(cdp.identity_queue(records, 'anchor_changes')) }}
{% endmacro %}

{% macro create_anchor_changes_queue(queue) -%}
    {{ cdp.create_identity_queue(queue, ['source_table', 'record_id', ['anchor_node_id', dbt.type_bigint()],
                                         ['lost', 'boolean']]) }}
{%- endmacro %}

{#- Deterministic edges: of every anchor, of the anchors listed in `anchors` (a relation of
    anchor_node_id), or only the rows the records listed in `records` (source_table,
    record_id) add; the listed rows come first, computed once (as in record_anchor_rows). -#}
{% macro deterministic_edge_rows(anchors=none, records=none) %}
with record_anchors as {% if anchors is not none or records is not none %}{{ cdp.materialized_cte() }} {% endif %}(

    select * from {{ ref('int_identity__record_anchors') }} as anchors
    where true
    {%- if anchors is not none %}
        and exists (
            select 1
            from {{ anchors }} as listed
            where listed.anchor_node_id = anchors.anchor_node_id
        )
    {%- endif %}
    {{- cdp.only_changed_records(records, 'anchors.source_table', 'anchors.record_id') }}

),

record_identifiers as {% if records is not none %}{{ cdp.materialized_cte() }} {% endif %}(

    select * from {{ ref('int_identity__record_identifiers') }} as records
    where true{{ cdp.only_changed_records(records, 'records.source_table', 'records.record_id') }}

),

identifiers as (

    select * from {{ ref('int_identity__identifiers') }}

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

deterministic as (

    select
        anchor_node_id as node_a,
        node_id as node_b,
        source_table,
        'deterministic' as match_type,
        count(*) as record_count,
        min(observed_at) as first_seen_at,
        max(observed_at) as last_seen_at,
        cast(null as double precision) as match_weight,
        cast(null as double precision) as match_probability,
        cast(null as boolean) as personal_agreement
    from linked
    group by anchor_node_id, node_id, source_table

)

select * from deterministic
{% endmacro %}

{#- Probabilistic edges: person profiles the matcher scored at or above var
    matching_threshold_probability whose first names agree enough (see int_identity__edges). -#}
{% macro probabilistic_edge_rows() %}
    {%- set known = cdp.matching_comparison_definitions().keys() | list -%}
    {%- set compared = cdp.matching_comparisons() | map(attribute='name') | list -%}
    {%- set personal = [] -%}
    {%- for comparison in var('identity_personal_comparisons') -%}
        {%- if comparison not in known -%}
            {%- do exceptions.raise_compiler_error("dbt_project.yml vars: identity_personal_comparisons lists '"
                ~ comparison ~ "', which is not a comparison; choose among " ~ known | join(', ')) -%}
        {%- endif -%}
        {%- if comparison in compared -%}
            {%- do personal.append('scored_pairs.weight_' ~ comparison ~ ' > 0') -%}
        {%- endif -%}
    {%- endfor %}
with scored_pairs as (

    select * from {{ ref('int_matching__scored_pairs') }}

),

profiles as (

    select * from {{ ref('int_matching__profiles') }}

),

profile_nodes as (

    select node_id, identifier_value, is_blocked
    from {{ ref('int_identity__identifiers') }}
    where identifier_type = 'person_profile'

),

probabilistic as (

    select
        nodes_l.node_id as node_a,
        nodes_r.node_id as node_b,
        'matching' as source_table,
        'probabilistic' as match_type,
        cast(1 as {{ dbt.type_bigint() }}) as record_count,
        cast(null as {{ dbt.type_timestamp() }}) as first_seen_at,
        cast(null as {{ dbt.type_timestamp() }}) as last_seen_at,
        scored_pairs.match_weight,
        scored_pairs.match_probability,
        {{ '(' ~ personal | join(' or ') ~ ')' if personal else 'false' }} as personal_agreement
    from scored_pairs
    inner join profiles as profiles_l
        on scored_pairs.profile_id_l = profiles_l.profile_id
    inner join profiles as profiles_r
        on scored_pairs.profile_id_r = profiles_r.profile_id
    inner join profile_nodes as nodes_l
        on profiles_l.profile_key = nodes_l.identifier_value
    inner join profile_nodes as nodes_r
        on profiles_r.profile_key = nodes_r.identifier_value
    where scored_pairs.match_probability >= {{ var('matching_threshold_probability') }}
        and not nodes_l.is_blocked
        and not nodes_r.is_blocked
        and {{ cdp.first_name_guard('scored_pairs') }}

)

select * from probabilistic
{% endmacro %}

{#- The SQL of int_identity__edges: every edge, or the edges of the anchors records lost, the
    merged rows and the probabilistic edges (the pre-hook listed and merged them). -#}
{% macro edges_select(plan) %}
select * from (
    {%- if plan.full %}
    {{ cdp.deterministic_edge_rows() }}
    {%- else %}
    {{ cdp.deterministic_edge_rows(anchors=plan.recomputed) }}
    {%- endif %}
) as deterministic

union all

select * from (
    {{ cdp.probabilistic_edge_rows() }}
) as probabilistic
{%- if not plan.full %}

union all

select * from {{ plan.merged }}
{%- endif %}
{% endmacro %}

{% macro edges_plan() %}
    {%- set signature = cdp.sql_signature(cdp.deterministic_edge_rows() ~ cdp.probabilistic_edge_rows()) -%}
    {%- set plan = cdp.identity_build_plan(signature) -%}
    {%- set queue = cdp.anchor_changes_queue(ref('int_identity__record_identifiers')) -%}
    {%- if not plan.full and cdp.identity_queue_demands_everything(queue) -%}
        {%- do plan.update({'full': true}) -%}
    {%- endif -%}
    {%- do plan.update({'signature': signature, 'queue': queue,
                        'recomputed': cdp.work_relation(this, 'recomputed'),
                        'gained': cdp.work_relation(this, 'gained'),
                        'merged': cdp.work_relation(this, 'merged')}) -%}
    {{ return(plan) }}
{% endmacro %}

{% macro edges_pre_hook() -%}
    {%- set plan = cdp.edges_plan() -%}
    drop table if exists {{ plan.recomputed }};
    drop table if exists {{ plan.gained }};
    drop table if exists {{ plan.merged }};
    {%- if plan.full %}
        {%- if is_incremental() %}
    delete from {{ this }};
        {%- endif %}
    {%- else %}
    create table {{ plan.recomputed }} as
    select distinct anchor_node_id
    from {{ plan.queue }}
    where lost and anchor_node_id is not null;
    {#- the records that gained an anchor, as anchored now, unless that anchor's edges are
        computed again anyway #}
    create table {{ plan.gained }} as
    select distinct anchors.source_table, anchors.record_id
    from {{ ref('int_identity__record_anchors') }} as anchors
    where exists (
            select 1
            from {{ plan.queue }} as queued
            where not queued.lost
                and queued.source_table = anchors.source_table
                and queued.record_id = anchors.record_id
        )
        and not exists (
            select 1
            from {{ plan.recomputed }} as recomputed
            where recomputed.anchor_node_id = anchors.anchor_node_id
        );
    create table {{ plan.merged }} as
    select
        added.node_a,
        added.node_b,
        added.source_table,
        added.match_type,
        coalesce(kept.record_count, 0) + added.record_count as record_count,
        case
            when kept.first_seen_at is null or added.first_seen_at < kept.first_seen_at then added.first_seen_at
            else kept.first_seen_at
        end as first_seen_at,
        case
            when kept.last_seen_at is null or added.last_seen_at > kept.last_seen_at then added.last_seen_at
            else kept.last_seen_at
        end as last_seen_at,
        added.match_weight,
        added.match_probability,
        added.personal_agreement
    from (
        {{ cdp.deterministic_edge_rows(records=plan.gained) }}
    ) as added
    left join {{ this }} as kept
        on kept.match_type = 'deterministic'
        and added.node_a = kept.node_a
        and added.node_b = kept.node_b
        and added.source_table = kept.source_table;
    delete from {{ this }} as kept
    where kept.match_type = 'probabilistic'
        or exists (
            select 1
            from {{ plan.recomputed }} as recomputed
            where recomputed.anchor_node_id = kept.node_a
        )
        or exists (
            select 1
            from {{ plan.merged }} as merged
            where merged.node_a = kept.node_a
                and merged.node_b = kept.node_b
                and merged.source_table = kept.source_table
        )
    {%- endif %}
{%- endmacro %}

{% macro edges_post_hook() -%}
    {%- set plan = cdp.edges_plan() -%}
    {{- cdp.log_incremental_scope(plan, {'anchors computed again': plan.recomputed, 'records merged': plan.gained,
                                         'edges merged': plan.merged}) }}
    drop table if exists {{ plan.recomputed }};
    drop table if exists {{ plan.gained }};
    drop table if exists {{ plan.merged }};
    {%- if cdp.relation_exists(plan.queue) %}
    delete from {{ plan.queue }};
    {%- endif %}
    {{ cdp.save_identity_state(plan.signature) }}
{%- endmacro %}
