{#- int_identity__records_resolved record by record (see macros/identity/incremental_identity.sql).

    A record's customer is the customer of its anchor. So a build computes again the records
    whose anchor int_identity__record_anchors computed again (its queue reanchored_records)
    and the records anchored on a node whose customer changed (a merge, a split, a new
    identity), found by comparing int_identity__customer_ids with the copy of its node ->
    customer pairs this model kept at its last build. The records computed again go to the
    resolved_records queue, which customer_events applies. -#}

{#- Rows of int_identity__records_resolved: of every record, or (affected: a relation of
    source_table, record_id) of those only, whose anchors come first, computed once (as in
    record_anchor_rows). -#}
{% macro resolved_record_rows(affected=none) %}
with record_anchors as {% if affected is not none %}{{ cdp.materialized_cte() }} {% endif %}(

    select * from {{ ref('int_identity__record_anchors') }} as anchors
    where true{{ cdp.only_changed_records(affected, 'anchors.source_table', 'anchors.record_id') }}

),

customer_ids as (

    select * from {{ ref('int_identity__customer_ids') }}

),

final as (

    select
        record_anchors.source_table,
        record_anchors.record_id,
        record_anchors.observed_at,
        customer_ids.customer_id,
        record_anchors.anchor_node_id
    from record_anchors
    inner join customer_ids
        on record_anchors.anchor_node_id = customer_ids.node_id

)

select * from final
{% endmacro %}

{% macro records_resolved_plan() %}
    {%- set signature = cdp.sql_signature(cdp.resolved_record_rows()) -%}
    {%- set plan = cdp.identity_build_plan(signature) -%}
    {%- set records = ref('int_identity__record_identifiers') -%}
    {%- set reanchored = cdp.identity_queue(records, 'reanchored_records') -%}
    {%- set node_customers = cdp.work_relation(this, 'node_customers') -%}
    {%- if not plan.full and (cdp.identity_queue_demands_everything(reanchored)
                              or not cdp.relation_exists(node_customers)) -%}
        {%- do plan.update({'full': true}) -%}
    {%- endif -%}
    {%- do plan.update({'signature': signature, 'reanchored': reanchored, 'node_customers': node_customers,
                        'resolved': cdp.identity_queue(records, 'resolved_records'),
                        'affected': cdp.work_relation(this, 'affected')}) -%}
    {{ return(plan) }}
{% endmacro %}

{% macro records_resolved_pre_hook() -%}
    {%- set plan = cdp.records_resolved_plan() -%}
    drop table if exists {{ plan.affected }};
    {{ cdp.create_identity_queue(plan.resolved, ['source_table', 'record_id']) }};
    {%- if plan.full %}
        {%- if is_incremental() %}
    delete from {{ this }};
        {%- endif %}
    insert into {{ plan.resolved }} (source_table, record_id, everything) values (null, null, true);
    {%- else %}
    create table {{ plan.affected }} as
    select distinct source_table, record_id
    from (
        select source_table, record_id
        from {{ plan.reanchored }}
        union all
        select record_anchors.source_table, record_anchors.record_id
        from {{ ref('int_identity__record_anchors') }} as record_anchors
        inner join (
            select coalesce(now.node_id, kept.node_id) as node_id
            from {{ ref('int_identity__customer_ids') }} as now
            full outer join {{ plan.node_customers }} as kept
                on now.node_id = kept.node_id
            where now.customer_id is distinct from kept.customer_id
        ) as moved
            on record_anchors.anchor_node_id = moved.node_id
    ) as affected;
    delete from {{ this }} as kept
    where true{{ cdp.only_changed_records(plan.affected, 'kept.source_table', 'kept.record_id') }};
    insert into {{ plan.resolved }} (source_table, record_id, everything)
    select source_table, record_id, false
    from {{ plan.affected }}
    {%- endif %}
{%- endmacro %}

{% macro records_resolved_post_hook() -%}
    {%- set plan = cdp.records_resolved_plan() -%}
    {{- cdp.log_incremental_scope(plan, {'records resolved again': plan.affected}) }}
    drop table if exists {{ plan.affected }};
    drop table if exists {{ plan.node_customers }};
    create table {{ plan.node_customers }} as
    select node_id, customer_id from {{ ref('int_identity__customer_ids') }};
    {%- if cdp.relation_exists(plan.reanchored) %}
    delete from {{ plan.reanchored }};
    {%- endif %}
    {{ cdp.save_identity_state(plan.signature) }}
{%- endmacro %}
