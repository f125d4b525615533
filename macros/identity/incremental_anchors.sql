{#- int_identity__record_anchors record by record (see macros/identity/incremental_identity.sql).

    A record's anchor depends on the identifiers it carries and on their block status and type
    priority. So a build computes again the anchors of the records in the touched_records
    queue (staged or removed since) and of the records carrying an identifier of the
    reblocked_identifiers queue; a type priority change is a change of SQL, which computes
    every anchor. The records computed again go to the reanchored_records queue, which
    int_identity__records_resolved applies; each of them, with the anchor it lost and the one
    it has now, goes to the anchor_changes queue, which int_identity__edges applies
    (macros/identity/incremental_edges.sql). -#}

{#- Rows of int_identity__record_anchors: of every record, or (affected: a relation of
    source_table, record_id) of those only. The affected records' identifier rows come first,
    computed once: else DuckDB joins every record identifier with the identifiers and filters
    after (12-17 s instead of 4 s for 420,000 records among 79M rows at 1,000,000 customers).
    Without `affected` the SQL is the one whose signature the table keeps. -#}
{% macro record_anchor_rows(affected=none) %}
with record_identifiers as {% if affected is not none %}{{ cdp.materialized_cte() }} {% endif %}(

    select * from {{ ref('int_identity__record_identifiers') }} as records
    where true{{ cdp.only_changed_records(affected, 'records.source_table', 'records.record_id') }}

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
{% endmacro %}

{% macro record_anchors_plan() %}
    {%- set signature = cdp.sql_signature(cdp.record_anchor_rows()) -%}
    {%- set plan = cdp.identity_build_plan(signature) -%}
    {%- set records = ref('int_identity__record_identifiers') -%}
    {%- set touched = cdp.identity_queue(records, 'touched_records') -%}
    {%- set reblocked = cdp.identity_queue(records, 'reblocked_identifiers') -%}
    {%- if not plan.full and (cdp.identity_queue_demands_everything(touched)
                              or cdp.identity_queue_demands_everything(reblocked)) -%}
        {%- do plan.update({'full': true}) -%}
    {%- endif -%}
    {%- do plan.update({'signature': signature, 'touched': touched, 'reblocked': reblocked,
                        'reanchored': cdp.identity_queue(records, 'reanchored_records'),
                        'anchor_changes': cdp.anchor_changes_queue(records),
                        'affected': cdp.work_relation(this, 'affected'), 'lost': cdp.work_relation(this, 'lost'),
                        'anchored': cdp.work_relation(this, 'anchored')}) -%}
    {{ return(plan) }}
{% endmacro %}

{#- One scan of the table finds the kept anchors of the affected records (queued as lost, then
    deleted by that list: nothing to read for records anchored the first time); their anchors
    now are computed into a work table, queued as gained and appended by the model, so that no
    statement reads the table again to find them. -#}
{% macro record_anchors_pre_hook() -%}
    {%- set plan = cdp.record_anchors_plan() -%}
    drop table if exists {{ plan.affected }};
    drop table if exists {{ plan.lost }};
    drop table if exists {{ plan.anchored }};
    {{ cdp.create_identity_queue(plan.reanchored, ['source_table', 'record_id']) }};
    {{ cdp.create_anchor_changes_queue(plan.anchor_changes) }};
    {%- if plan.full %}
        {%- if is_incremental() %}
    delete from {{ this }};
        {%- endif %}
    insert into {{ plan.reanchored }} (source_table, record_id, everything) values (null, null, true);
    insert into {{ plan.anchor_changes }} (source_table, record_id, anchor_node_id, lost, everything)
    values (null, null, null, null, true);
    {%- else %}
    create table {{ plan.affected }} as
    select distinct source_table, record_id
    from (
        select source_table, record_id
        from {{ plan.touched }}
        union all
        select records.source_table, records.record_id
        from {{ ref('int_identity__record_identifiers') }} as records
        where exists (
            select 1
            from {{ plan.reblocked }} as reblocked
            where reblocked.identifier_type = records.identifier_type
                and reblocked.identifier_value = records.identifier_value
        )
    ) as affected;
    create table {{ plan.lost }} as
    select kept.source_table, kept.record_id, kept.anchor_node_id
    from {{ this }} as kept
    where true{{ cdp.only_changed_records(plan.affected, 'kept.source_table', 'kept.record_id') }};
    insert into {{ plan.anchor_changes }} (source_table, record_id, anchor_node_id, lost, everything)
    select source_table, record_id, anchor_node_id, true, false
    from {{ plan.lost }};
    delete from {{ this }} as kept
    where true{{ cdp.only_changed_records(plan.lost, 'kept.source_table', 'kept.record_id') }};
    drop table {{ plan.lost }};
    create table {{ plan.anchored }} as
    {{ cdp.record_anchor_rows(plan.affected) }};
    insert into {{ plan.anchor_changes }} (source_table, record_id, anchor_node_id, lost, everything)
    select source_table, record_id, anchor_node_id, false, false
    from {{ plan.anchored }};
    insert into {{ plan.reanchored }} (source_table, record_id, everything)
    select source_table, record_id, false
    from {{ plan.affected }}
    {%- endif %}
{%- endmacro %}

{% macro record_anchors_post_hook() -%}
    {%- set plan = cdp.record_anchors_plan() -%}
    {{- cdp.log_incremental_scope(plan, {'records anchored again': plan.affected}) }}
    drop table if exists {{ plan.affected }};
    drop table if exists {{ plan.anchored }};
    {%- for queue in [plan.touched, plan.reblocked] %}
        {%- if cdp.relation_exists(queue) %}
    delete from {{ queue }};
        {%- endif %}
    {%- endfor %}
    {{ cdp.save_identity_state(plan.signature) }}
{%- endmacro %}
