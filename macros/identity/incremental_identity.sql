{#-
    The identity graph's records built record by record: int_identity__record_identifiers,
    int_identity__identifiers, int_identity__record_anchors and int_identity__records_resolved
    are incremental tables that compute again only what the records staged since their last
    build (and, for the last, the customers of nodes) can have changed.

    int_identity__record_identifiers
        A build finds the changed records: rows of the base models behind the identity sources
        staged after the moment the table last applied (their _staged_at), and rows those base
        models removed since (their vanished-rows logs, see delete_vanished_source_rows). A
        pre-hook lists them in a scratch table, queues the identifier rows their kept rows
        carry and deletes those rows, computes the rows the changed records carry now (their
        person profiles included) into a work table and queues them; the model appends that
        table; a post-hook keeps the moment and the SQL's signature in the table's state.
    int_identity__identifiers
        Computes again the identifiers in that queue (their statistics, the distinct values of
        types limited to one on their records, their block reason), and those whose block
        reason can have changed without a record of theirs changing: values of the blocklist
        seed and kept rows it blocked, values whose reason in int_matching__shared_values the
        kept row does not show, and kept rows showing such a reason shared values no longer
        give (reblockable_identifiers). Its post-hook empties the queue and queues the
        identifiers whose block status changed for int_identity__record_anchors. Node ids are stable (a hash of type
        and value), so a kept row keeps its node id.
    int_identity__record_anchors (macros/identity/incremental_anchors.sql)
        Computes again the anchors of the records staged or removed and of the records that
        carry an identifier whose block status changed, and queues those records for
        int_identity__records_resolved and, with the anchors they lost and gained, for
        int_identity__edges (macros/identity/incremental_edges.sql).
    int_identity__records_resolved (macros/identity/incremental_resolution.sql)
        Computes again the customers of those records and of the records anchored on a node
        whose customer changed, and queues them for customer_events
        (macros/events/incremental_events.sql).

    Each table computes everything (and says so to the next through the queue) on
    --full-refresh, on its first build, when its state is missing, and when its SQL's
    signature (an md5 of the SQL computing every row: code, vars, sources switched on)
    differs from the one kept in its state. Pre- and post-hooks run in the model's
    transaction, so a failed build leaves table, queue and state as they were.
-#}

{% macro identity_state_relation(relation) %}
    {{ return(cdp.work_relation(relation, 'state')) }}
{% endmacro %}

{#- Queues between the record-by-record identity models, kept beside `neighbour` (a model of
    the intermediate schema): a table of keys and an `everything` flag, written by one model's
    hooks and emptied by the next model's post-hook once it has applied them. A row with
    everything set says "compute every row": its producer computed every row.
      identifier_changes   identifier rows removed and added (record_identifiers -> identifiers)
      touched_records      records staged or removed (record_identifiers -> record_anchors)
      reblocked_identifiers identifiers whose block status changed (identifiers -> record_anchors)
      reanchored_records   records whose anchor was computed again (record_anchors -> records_resolved)
      anchor_changes       the same records with the anchor each lost and gained (record_anchors -> edges,
                           macros/identity/incremental_edges.sql)
      resolved_records     records whose customer was computed again (records_resolved -> customer_events) -#}
{% macro identity_queue(neighbour, name) %}
    {{ return(api.Relation.create(database=neighbour.database, schema=neighbour.schema,
                                  identifier='int_identity__' ~ name, type='table')) }}
{% endmacro %}

{#- The identifier rows record_identifiers removed and added: identifiers computes again from
    all their records the identifiers that lost a row, and merges the added rows into the
    statistics of the others (identifier_changes_merge). -#}
{% macro identity_queue_relation(records) %}
    {{ return(cdp.identity_queue(records, 'identifier_changes')) }}
{% endmacro %}

{% macro create_identifier_changes_queue(queue) -%}
    {{ cdp.create_identity_queue(queue, ['identifier_type', 'identifier_value', 'source_table', 'record_id',
                                         ['observed_at', dbt.type_timestamp()], ['removed', 'boolean']]) }}
{%- endmacro %}

{#- Statement: create the queue when it is missing; columns names its columns (text), or gives
    [name, type] pairs; every queue ends with its `everything` flag. -#}
{% macro create_identity_queue(queue, columns) -%}
    create table if not exists {{ queue }} (
        {%- for column in columns %}
            {%- if column is string %}
        {{ column }} {{ dbt.type_string() }},
            {%- else %}
        {{ column[0] }} {{ column[1] }},
            {%- endif %}
        {%- endfor %}
        everything boolean
    )
{%- endmacro %}

{#- Whether a consumer must compute every row: the queue is missing or says everything. -#}
{% macro identity_queue_demands_everything(queue) %}
    {%- if not cdp.relation_exists(queue) -%}
        {{ return(true) }}
    {%- endif -%}
    {{ return(run_query('select count(*) from ' ~ queue ~ ' where everything').rows[0][0] | int > 0) }}
{% endmacro %}

{#- Whether this build of an incremental identity model computes every row: returns
    {'full': bool, 'applied_at': SQL timestamp of the changes the table has applied}. -#}
{% macro identity_build_plan(signature) %}
    {%- if not execute or flags.FULL_REFRESH or not is_incremental() -%}
        {{ return({'full': true, 'applied_at': none}) }}
    {%- endif -%}
    {%- set state = cdp.identity_state_relation(this) -%}
    {%- if not cdp.relation_exists(state) -%}
        {{ return({'full': true, 'applied_at': none}) }}
    {%- endif -%}
    {%- set row = run_query('select applied_at, sql_signature from ' ~ state).rows[0] -%}
    {%- if row[1] != signature -%}
        {{ return({'full': true, 'applied_at': none}) }}
    {%- endif -%}
    {{ return({'full': false,
               'applied_at': "cast('" ~ row[0].strftime('%Y-%m-%d %H:%M:%S.%f') ~ "' as " ~ dbt.type_timestamp() ~ ")"}) }}
{% endmacro %}

{#- Log how much an incremental build computed again: `parts` maps a label to a work table
    (rows counted; a missing table counts as none). Says so when the build computed everything. -#}
{% macro log_incremental_scope(plan, parts) %}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- if plan.full -%}
        {{ log(this.identifier ~ ': computed every row', info=true) }}
        {{ return('') }}
    {%- endif -%}
    {%- set counts = [] -%}
    {%- for label, relation in parts.items() -%}
        {%- set rows = run_query('select count(*) from ' ~ relation).rows[0][0] if cdp.relation_exists(relation) else 0 -%}
        {%- do counts.append('{:,}'.format(rows | int) ~ ' ' ~ label) -%}
    {%- endfor -%}
    {{ log(this.identifier ~ ': ' ~ counts | join(', '), info=true) }}
    {{ return('') }}
{% endmacro %}

{#- Post-hook step: keep the moment and signature this build applied. -#}
{% macro save_identity_state(signature) -%}
    {%- set state = cdp.identity_state_relation(this) -%}
    drop table if exists {{ state }};
    create table {{ state }} as
    select
        {{ cdp.run_started_at_sql() }} as applied_at,
        cast('{{ signature }}' as {{ dbt.type_string() }}) as sql_signature
{%- endmacro %}

{#- The base model behind a staged identity source. -#}
{% macro identity_base_model(entry) %}
    {{ return(entry.model.replace('stg_', 'base_', 1)) }}
{% endmacro %}

{#- Rows of int_identity__record_identifiers: of every record, or (changed: a relation of
    source_table, record_id) of the changed records only. -#}
{% macro record_identifier_rows(entries, changed=none) %}
    select
        source_table,
        record_id,
        'person_profile' as identifier_type,
        profile_key as identifier_value,
        observed_at
    from {{ ref('int_matching__record_profiles') }} as record_profiles
    where true{{ cdp.only_changed_records(changed, 'record_profiles.source_table', 'record_profiles.record_id') }}
    {%- for entry in entries %}
        {%- set record_id = 'cast(' ~ entry.record_id ~ ' as ' ~ dbt.type_string() ~ ')' %}
        {%- for identifier_type, column in entry.identifiers %}

    union all

    select
        '{{ entry.source_table }}' as source_table,
        {{ record_id }} as record_id,
        '{{ identifier_type }}' as identifier_type,
        cast({{ column }} as {{ dbt.type_string() }}) as identifier_value,
        {{ entry.observed_at }} as observed_at
    from {{ ref(entry.model) }}
    where {{ column }} is not null
        {{- cdp.only_changed_records(changed, "'" ~ entry.source_table ~ "'", record_id) }}
        {%- endfor %}
    {%- endfor %}
{% endmacro %}

{#- The records (source_table, record_id) of the entries' staged models whose base rows were
    staged or removed after `applied_at` (an SQL timestamp): their _staged_at, their base
    model's vanished-rows log. -#}
{% macro changed_records_select(entries, applied_at) %}
    select distinct source_table, record_id
    from (
        {%- for entry in entries %}
            {%- set base = ref(cdp.identity_base_model(entry)) %}
            {%- set log = cdp.vanished_rows_relation(base) %}
            {%- set record_id = 'cast(' ~ entry.record_id ~ ' as ' ~ dbt.type_string() ~ ')' %}
        {{ 'union all' if not loop.first }}
        select '{{ entry.source_table }}' as source_table, {{ record_id }} as record_id
        from {{ base }}
        where _staged_at > {{ applied_at }}
            {%- if cdp.relation_exists(log) %}
        union all
        select '{{ entry.source_table }}' as source_table, {{ record_id }} as record_id
        from {{ log }}
        where _vanished_at > {{ applied_at }}
            {%- endif %}
        {%- endfor %}
    ) as changes
    where record_id is not null
{% endmacro %}

{#- Hooks of a table keyed by (source_table, record_id) that writes again only the rows of the
    changed records of plan.entries (int_events__unioned, int_matching__record_profiles):
    plan = identity_build_plan(signature) + {entries, signature, changed: a work relation}. -#}
{% macro rewrite_changed_records_pre_hook(plan) -%}
    drop table if exists {{ plan.changed }}
    {%- if plan.full and is_incremental() %};
    delete from {{ this }}
    {%- elif not plan.full %};
    create table {{ plan.changed }} as
    {{ cdp.changed_records_select(plan.entries, plan.applied_at) }};
    delete from {{ this }} as kept
    where true{{ cdp.only_changed_records(plan.changed, 'kept.source_table', 'kept.record_id') }}
    {%- endif %}
{%- endmacro %}

{% macro rewrite_changed_records_post_hook(plan) -%}
    drop table if exists {{ plan.changed }};
    {{ cdp.save_identity_state(plan.signature) }}
{%- endmacro %}

{#- Filter: the record (source table and record id expressions) is in `changed`; nothing
    when changed is none. -#}
{% macro only_changed_records(changed, source_table, record_id) -%}
    {%- if changed is not none %}
        and exists (
            select 1
            from {{ changed }} as changed_records
            where changed_records.source_table = {{ source_table }}
                and changed_records.record_id = {{ record_id }}
        )
    {%- endif %}
{%- endmacro %}

{#- Hooks of int_identity__record_identifiers (see the top of this file). -#}
{% macro record_identifiers_plan() %}
    {%- set entries = cdp.enabled_entries(cdp.identity_record_sources()) -%}
    {%- set signature = cdp.sql_signature(cdp.record_identifier_rows(entries)) -%}
    {%- set plan = cdp.identity_build_plan(signature) -%}
    {%- do plan.update({'entries': entries, 'signature': signature,
                        'changed': cdp.work_relation(this, 'changed'), 'removed': cdp.work_relation(this, 'removed'),
                        'added': cdp.work_relation(this, 'added'), 'queue': cdp.identity_queue_relation(this),
                        'records_queue': cdp.identity_queue(this, 'touched_records')}) -%}
    {{ return(plan) }}
{% endmacro %}

{#- The SQL of a record-by-record table whose pre-hook computes the rows of the changed
    records into the work table `computed`: every row's SQL when the plan computes everything,
    otherwise those rows (int_identity__record_identifiers, int_identity__record_anchors). -#}
{% macro precomputed_rows(plan, every_row_sql, computed) %}
    {%- if plan.full -%}
        {{ every_row_sql }}
    {%- else -%}
        select * from {{ computed }}
    {%- endif %}
{% endmacro %}

{#- One scan of the table finds the kept rows of the changed records (queued as removed, then
    deleted: for records staged the first time there are none, and the delete reads nothing);
    the rows the changed records carry now are computed into a work table, queued as added,
    and appended by the model, so that no statement reads the table again to find them. -#}
{% macro record_identifiers_pre_hook() -%}
    {%- set plan = cdp.record_identifiers_plan() -%}
    drop table if exists {{ plan.changed }};
    drop table if exists {{ plan.removed }};
    drop table if exists {{ plan.added }};
    {#- the queue of earlier versions, which listed identifiers only #}
    drop table if exists {{ cdp.identity_queue(this, 'touched_identifiers') }};
    {{ cdp.create_identifier_changes_queue(plan.queue) }};
    {{ cdp.create_identity_queue(plan.records_queue, ['source_table', 'record_id']) }};
    {%- if plan.full %}
        {%- if is_incremental() %}
    delete from {{ this }};
        {%- endif %}
    insert into {{ plan.queue }} (removed, everything) values (false, true);
    insert into {{ plan.records_queue }} (source_table, record_id, everything) values (null, null, true);
    {%- else %}
    create table {{ plan.changed }} as
    {{ cdp.changed_records_select(plan.entries, plan.applied_at) }};
    insert into {{ plan.records_queue }} (source_table, record_id, everything)
    select source_table, record_id, false
    from {{ plan.changed }};
    create table {{ plan.removed }} as
    select identifier_type, identifier_value, source_table, record_id, observed_at
    from {{ this }} as kept
    where true{{ cdp.only_changed_records(plan.changed, 'kept.source_table', 'kept.record_id') }};
    {{ cdp.queue_identifier_changes(plan, plan.removed, true) }};
    delete from {{ this }} as kept
    where true{{ cdp.only_changed_records(plan.removed, 'kept.source_table', 'kept.record_id') }};
    drop table {{ plan.removed }};
    create table {{ plan.added }} as
    {{ cdp.record_identifier_rows(plan.entries, plan.changed) }};
    {{ cdp.queue_identifier_changes(plan, plan.added, false) }}
    {%- endif %}
{%- endmacro %}

{#- Statement: queue the identifier rows of `rows`, as removed or added. -#}
{% macro queue_identifier_changes(plan, rows, removed) -%}
    insert into {{ plan.queue }} (identifier_type, identifier_value, source_table, record_id, observed_at, removed, everything)
    select identifier_type, identifier_value, source_table, record_id, observed_at, {{ removed }}, false
    from {{ rows }}
{%- endmacro %}

{% macro record_identifiers_post_hook() -%}
    {%- set plan = cdp.record_identifiers_plan() -%}
    {{- cdp.log_incremental_scope(plan, {'records written again': plan.changed}) }}
    drop table if exists {{ plan.changed }};
    drop table if exists {{ plan.added }};
    {{ cdp.save_identity_state(plan.signature) }}
{%- endmacro %}

{#- Identifier types a record carries at most one value of (var identity_type_limits). -#}
{% macro single_identifier_types() %}
    {%- set single_types = [] -%}
    {%- for identifier_type, limit in var('identity_type_limits').items() if limit | int == 1 -%}
        {%- do single_types.append(identifier_type) -%}
    {%- endfor -%}
    {{ return(single_types) }}
{% endmacro %}

{#- Rows of int_identity__identifiers: of every identifier, or (affected: a relation of
    identifier_type, identifier_value) of those only. -#}
{% macro identifier_rows(affected=none) %}
{%- set single_types = cdp.single_identifier_types() %}
{#- computing some identifiers, each reference reads only their records' rows #}
with record_identifiers as {% if affected is not none %}{{ cdp.inlined_cte() }} {% endif %}(

    select * from {{ ref('int_identity__record_identifiers') }}

),

in_scope as {% if affected is not none %}{{ cdp.materialized_cte() }} {% endif %}(

    select *
    from record_identifiers
    {%- if affected is not none %}
    where exists (
        select 1
        from {{ affected }} as affected
        where affected.identifier_type = record_identifiers.identifier_type
            and affected.identifier_value = record_identifiers.identifier_value
    )
    {%- endif %}

),
{%- if affected is not none %}

{#- the records of the identifiers computed again: their values of the types limited to one
    are looked up among these only #}
in_scope_records as {{ cdp.materialized_cte() }} (

    select distinct source_table, record_id
    from in_scope

),
{%- endif %}

blocklist as (

    select * from {{ ref('identity_blocklist') }}

),

shared_values as (

    select * from {{ ref('int_matching__shared_values') }}
    where block_reason <> 'blocklist'

),

identifier_stats as (

    select
        identifier_type,
        identifier_value,
        min(observed_at) as first_seen_at,
        max(observed_at) as last_seen_at,
        count(*) as record_count,
        count(distinct source_table) as source_count,
        {{ dbt.listagg('distinct source_table', "', '", 'order by source_table') }} as source_tables
    from in_scope
    group by identifier_type, identifier_value

),
{%- for single_type in single_types %}

    {{ single_type }}_records as (

        select
            source_table,
            record_id,
            identifier_value as {{ single_type }}
        from record_identifiers
        where identifier_type = '{{ single_type }}'
        {%- if affected is not none %}
            and exists (
                select 1
                from in_scope_records
                where in_scope_records.source_table = record_identifiers.source_table
                    and in_scope_records.record_id = record_identifiers.record_id
            )
        {%- endif %}

    ),

    linked_{{ single_type }}s as (

        select
            in_scope.identifier_type,
            in_scope.identifier_value,
            count(distinct {{ single_type }}_records.{{ single_type }}) as linked_count,
            min({{ single_type }}_records.{{ single_type }}) as linked_min
        from in_scope
        inner join {{ single_type }}_records
            on in_scope.source_table = {{ single_type }}_records.source_table
            and in_scope.record_id = {{ single_type }}_records.record_id
        where in_scope.identifier_type <> '{{ single_type }}'
        group by in_scope.identifier_type, in_scope.identifier_value

    ),
{%- endfor %}

final as (

    select
        {{ cdp.stable_bigint_id("identifier_stats.identifier_type || ':' || identifier_stats.identifier_value") }}
            as node_id,
        identifier_stats.identifier_type,
        identifier_stats.identifier_value,
        {{ cdp.identifier_priority('identifier_stats.identifier_type') }} as type_priority,
        identifier_stats.first_seen_at,
        identifier_stats.last_seen_at,
        identifier_stats.record_count,
        identifier_stats.source_count,
        identifier_stats.source_tables,
        {%- for single_type in single_types %}
            coalesce(linked_{{ single_type }}s.linked_count, 0) as linked_{{ single_type }}_count,
            linked_{{ single_type }}s.linked_min as linked_{{ single_type }}_min,
        {%- endfor %}
        case
            when blocklist.identifier_value is not null then 'blocklist'
            {%- for single_type in single_types %}
                when linked_{{ single_type }}s.linked_count > 1 then 'shared_across_{{ single_type }}'
            {%- endfor %}
            when shared_values.block_reason is not null then shared_values.block_reason
        end as block_reason
    from identifier_stats
    {%- for single_type in single_types %}
    left join linked_{{ single_type }}s
        on identifier_stats.identifier_type = linked_{{ single_type }}s.identifier_type
        and identifier_stats.identifier_value = linked_{{ single_type }}s.identifier_value
    {%- endfor %}
    left join blocklist
        on identifier_stats.identifier_type = blocklist.identifier_type
        and identifier_stats.identifier_value = blocklist.identifier_value
    left join shared_values
        on identifier_stats.identifier_type = shared_values.identifier_type
        and identifier_stats.identifier_value = shared_values.identifier_value

)

select
    *,
    block_reason is not null as is_blocked
from final
{% endmacro %}

{#- The SQL of int_identity__identifiers: every identifier computed from its records, or the
    affected ones and the merged ones (both listed by the pre-hook). -#}
{% macro identifiers_select(plan) %}
    {%- if plan.full -%}
        {{ cdp.identifier_rows() }}
    {%- else -%}
select * from (
    {{ cdp.identifier_rows(plan.affected) }}
) as computed

union all

select * from {{ plan.merged }}
    {%- endif %}
{% endmacro %}

{#- Hooks of int_identity__identifiers (see the top of this file). -#}
{% macro identifiers_plan() %}
    {%- set signature = cdp.sql_signature(cdp.identifier_rows()) -%}
    {%- set plan = cdp.identity_build_plan(signature) -%}
    {%- set queue = cdp.identity_queue_relation(ref('int_identity__record_identifiers')) -%}
    {%- if not plan.full and cdp.identity_queue_demands_everything(queue) -%}
        {%- do plan.update({'full': true}) -%}
    {%- endif -%}
    {%- do plan.update({'signature': signature, 'queue': queue, 'affected': cdp.work_relation(this, 'affected'),
                        'before': cdp.work_relation(this, 'before'), 'merged': cdp.work_relation(this, 'merged'),
                        'reblocked': cdp.identity_queue(this, 'reblocked_identifiers')}) -%}
    {{ return(plan) }}
{% endmacro %}

{% macro identifiers_pre_hook() -%}
    {%- set plan = cdp.identifiers_plan() -%}
    drop table if exists {{ plan.affected }};
    drop table if exists {{ plan.before }};
    drop table if exists {{ plan.merged }};
    {{ cdp.create_identity_queue(plan.reblocked, ['identifier_type', 'identifier_value']) }};
    {%- if plan.full %}
        {%- if is_incremental() %}
    delete from {{ this }};
        {%- endif %}
    insert into {{ plan.reblocked }} (identifier_type, identifier_value, everything) values (null, null, true);
    {%- else %}
    {#- computed again from all their records: identifiers that lost a row, that are new, whose
        block reason can change without a record of theirs changing, and whose added rows
        cannot be merged #}
    create table {{ plan.affected }} as
    select distinct identifier_type, identifier_value
    from (
        select identifier_type, identifier_value from {{ plan.queue }}
        where removed
        union all
        select identifier_type, identifier_value from {{ plan.queue }} as added
        where not added.removed
            and not exists (
                select 1
                from {{ this }} as kept
                where kept.identifier_type = added.identifier_type
                    and kept.identifier_value = added.identifier_value
            )
        union all
        {{ cdp.unmergeable_identifiers(plan) }}
        union all
        {{ cdp.reblockable_identifiers() }}
    ) as affected;
    create table {{ plan.merged }} as
    {{ cdp.merged_identifier_rows(plan) }};
    {#- the block status of the identifiers computed again, to tell record_anchors which changed #}
    create table {{ plan.before }} as
    select kept.identifier_type, kept.identifier_value, kept.is_blocked
    from {{ this }} as kept
    where {{ cdp.identifier_in(plan.affected, 'kept') }}
        or {{ cdp.identifier_in(plan.merged, 'kept') }};
    delete from {{ this }} as kept
    where {{ cdp.identifier_in(plan.affected, 'kept') }}
        or {{ cdp.identifier_in(plan.merged, 'kept') }}
    {%- endif %}
{%- endmacro %}

{#- Identifiers whose block reason can differ from the kept row's without a record of theirs
    changing: a shared-values reason (int_matching__shared_values) the kept row does not show,
    a kept reason of that kind that shared values no longer give, and blocklist values (the
    seed's, and kept rows blocked by it). A kept row showing the reason shared values give now
    needs nothing: the reason follows from shared values unless the blocklist or a value
    shared across records overrides it, and those change only with the blocklist (computed
    again here) or with the identifier's records (computed again or merged, keeping the
    reason). -#}
{% macro reblockable_identifiers() -%}
    select shared.identifier_type, shared.identifier_value
    from {{ ref('int_matching__shared_values') }} as shared
    where shared.block_reason <> 'blocklist'
        and not exists (
            select 1
            from {{ this }} as kept
            where kept.identifier_type = shared.identifier_type
                and kept.identifier_value = shared.identifier_value
                and kept.block_reason = shared.block_reason
        )
    union all
    select kept.identifier_type, kept.identifier_value
    from {{ this }} as kept
    where kept.block_reason is not null
        and kept.block_reason not like 'shared_across_%'
        and kept.block_reason <> 'blocklist'
        and not exists (
            select 1
            from {{ ref('int_matching__shared_values') }} as shared
            where shared.identifier_type = kept.identifier_type
                and shared.identifier_value = kept.identifier_value
                and shared.block_reason = kept.block_reason
        )
    union all
    select identifier_type, identifier_value from {{ ref('identity_blocklist') }}
    union all
    select identifier_type, identifier_value from {{ this }}
    where block_reason = 'blocklist'
{%- endmacro %}

{#- Condition: the identifier of row `alias` is in `relation` (identifier_type, identifier_value). -#}
{% macro identifier_in(relation, alias) -%}
    exists (
        select 1
        from {{ relation }} as listed
        where listed.identifier_type = {{ alias }}.identifier_type
            and listed.identifier_value = {{ alias }}.identifier_value
    )
{%- endmacro %}

{#- The rows the changed records added (queue identifier_changes), and for each added row's
    identifier the distinct values of each type limited to one on those records now. -#}
{% macro added_identifier_rows(plan) -%}
    added as (

        select identifier_type, identifier_value, source_table, record_id, observed_at
        from {{ plan.queue }}
        where not removed

    ),

    added_records as (

        select distinct source_table, record_id
        from added

    ),

    {#- the values of the types limited to one on those records, in one pass over the record
        identifiers (tens of millions of rows), computed once for every type -#}
    linked_values as {{ cdp.materialized_cte() }} (

        select records.source_table, records.record_id, records.identifier_type, records.identifier_value
        from {{ ref('int_identity__record_identifiers') }} as records
        inner join added_records
            on records.source_table = added_records.source_table
            and records.record_id = added_records.record_id
        where records.identifier_type in ({{ cdp.sql_string_list(cdp.single_identifier_types()) }})

    ),
    {%- for single_type in cdp.single_identifier_types() %}

    added_{{ single_type }}s as (

        select
            added.identifier_type,
            added.identifier_value,
            count(distinct linked.identifier_value) as value_count,
            min(linked.identifier_value) as min_value
        from added
        inner join linked_values as linked
            on added.source_table = linked.source_table
            and added.record_id = linked.record_id
            and linked.identifier_type = '{{ single_type }}'
        where added.identifier_type <> '{{ single_type }}'
        group by added.identifier_type, added.identifier_value

    ),
    {%- endfor %}
{%- endmacro %}

{#- Identifiers that gained rows whose statistics cannot be merged into the kept row: a raw
    table new to the identifier (its source list changes), or a value of a type limited to one
    that may be new to it (kept count 1 and another or more values, or kept count above 1). -#}
{% macro unmergeable_identifiers(plan) -%}
    select identifier_type, identifier_value
    from (
        with {{ cdp.added_identifier_rows(plan) }}

        unmergeable as (

            select added.identifier_type, added.identifier_value
            from added
            inner join {{ this }} as kept
                on added.identifier_type = kept.identifier_type
                and added.identifier_value = kept.identifier_value
            where position(', ' || added.source_table || ', ' in ', ' || kept.source_tables || ', ') = 0
            {%- for single_type in cdp.single_identifier_types() %}

            union all

            select linked.identifier_type, linked.identifier_value
            from added_{{ single_type }}s as linked
            inner join {{ this }} as kept
                on linked.identifier_type = kept.identifier_type
                and linked.identifier_value = kept.identifier_value
            where kept.linked_{{ single_type }}_count > 1
                or (
                    kept.linked_{{ single_type }}_count = 1
                    and (linked.value_count > 1 or linked.min_value <> kept.linked_{{ single_type }}_min)
                )
            {%- endfor %}

        )

        select * from unmergeable
    ) as unmergeable_identifiers
{%- endmacro %}

{#- Rows of the identifiers that only gained rows and are not in plan.affected: the kept row
    with the added rows merged in (counts added, first and last seen widened, linked values
    counted when the kept row had none); the same values a computation from all records gives. -#}
{% macro merged_identifier_rows(plan) -%}
    {%- set single_types = cdp.single_identifier_types() %}
    with {{ cdp.added_identifier_rows(plan) }}

    added_stats as (

        select
            identifier_type,
            identifier_value,
            min(observed_at) as first_seen_at,
            max(observed_at) as last_seen_at,
            count(*) as record_count
        from added
        group by identifier_type, identifier_value

    ),

    merged as (

        select
            kept.node_id,
            kept.identifier_type,
            kept.identifier_value,
            kept.type_priority,
            {%- for single_type in single_types %}
            case
                when kept.linked_{{ single_type }}_count = 0 then coalesce(added_{{ single_type }}s.value_count, 0)
                else kept.linked_{{ single_type }}_count
            end as linked_{{ single_type }}_count,
            case
                when kept.linked_{{ single_type }}_count = 0 then added_{{ single_type }}s.min_value
                else kept.linked_{{ single_type }}_min
            end as linked_{{ single_type }}_min,
            {%- endfor %}
            case
                when added_stats.first_seen_at < kept.first_seen_at then added_stats.first_seen_at
                else kept.first_seen_at
            end as first_seen_at,
            case
                when added_stats.last_seen_at > kept.last_seen_at then added_stats.last_seen_at
                else kept.last_seen_at
            end as last_seen_at,
            kept.record_count + added_stats.record_count as record_count,
            kept.source_count,
            kept.source_tables,
            kept.block_reason as kept_block_reason
        from added_stats
        inner join {{ this }} as kept
            on added_stats.identifier_type = kept.identifier_type
            and added_stats.identifier_value = kept.identifier_value
        {%- for single_type in single_types %}
        left join added_{{ single_type }}s
            on added_stats.identifier_type = added_{{ single_type }}s.identifier_type
            and added_stats.identifier_value = added_{{ single_type }}s.identifier_value
        {%- endfor %}
        where not {{ cdp.identifier_in(plan.affected, 'kept') }}

    ),

    {#- a kept reason from shared values stands (blocklisted identifiers and those whose
        shared-values reason changed are in affected); a value shared across records comes first #}
    final as (

        select
            node_id,
            identifier_type,
            identifier_value,
            type_priority,
            first_seen_at,
            last_seen_at,
            record_count,
            source_count,
            source_tables,
            {%- for single_type in single_types %}
            linked_{{ single_type }}_count,
            linked_{{ single_type }}_min,
            {%- endfor %}
            case
                {%- for single_type in single_types %}
                when linked_{{ single_type }}_count > 1 then 'shared_across_{{ single_type }}'
                {%- endfor %}
                when kept_block_reason not like 'shared_across_%' then kept_block_reason
            end as block_reason
        from merged

    )

    select
        *,
        block_reason is not null as is_blocked
    from final
{%- endmacro %}

{% macro identifiers_post_hook() -%}
    {%- set plan = cdp.identifiers_plan() -%}
    {{- cdp.log_incremental_scope(plan, {'identifiers computed again': plan.affected, 'merged': plan.merged}) }}
    {%- if cdp.relation_exists(plan.before) %}
    {#- identifiers that appeared or vanished only did so with records that changed, which
        record_anchors takes from its other queue #}
    insert into {{ plan.reblocked }} (identifier_type, identifier_value, everything)
    select before.identifier_type, before.identifier_value, false
    from {{ plan.before }} as before
    inner join {{ this }} as now
        on before.identifier_type = now.identifier_type
        and before.identifier_value = now.identifier_value
    where before.is_blocked <> now.is_blocked;
    drop table {{ plan.before }};
    {%- endif %}
    drop table if exists {{ plan.affected }};
    drop table if exists {{ plan.merged }};
    {%- if cdp.relation_exists(plan.queue) %}
    delete from {{ plan.queue }};
    {%- endif %}
    {{ cdp.save_identity_state(plan.signature) }}
{%- endmacro %}
