{#-
    Materialization `versioned_table`: a table built again only when what it is computed from
    changed. Beside the table a version row (work relation `version`) keeps
      sql_signature   the fingerprint of the SQL that built it (code, vars, refs; see sql_signature),
      inputs_version  the versions of the models it reads, as they were when it was built,
      output_version  its own version: a new one each time it is built.
    A build keeps the table as it is when the table exists, the build is no --full-refresh, the
    SQL's fingerprint is the kept one and every model it reads still has the version it had:
    the same SQL over the same inputs gives the same rows. Otherwise the table is built again,
    in full, and gets a new version. A model it reads must keep a version (a versioned_table,
    or a table whose post-hook runs save_content_version); without one, the table is always
    built again.

    The graph materializations (connected_components, seeded_partition) decide the same way
    for a model configured versioned=true.

    The matcher's tables past int_matching__profiles use it: profiles carry a version of their
    content, so a build whose new records bring no new person profile keeps every pair,
    comparison vector, parameter and score as they were.
-#}

{% macro version_relation(relation) %}
    {{ return(cdp.work_relation(relation, 'version')) }}
{% endmacro %}

{#- The kept version row of `relation`: {'sql_signature', 'inputs_version', 'output_version'},
    or none when it keeps none. -#}
{% macro kept_version(relation) %}
    {%- set version = cdp.version_relation(relation) -%}
    {%- if not cdp.relation_exists(version) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set rows = run_query('select sql_signature, inputs_version, output_version from ' ~ version).rows -%}
    {%- if rows | length != 1 -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return({'sql_signature': rows[0][0], 'inputs_version': rows[0][1], 'output_version': rows[0][2]}) }}
{% endmacro %}

{#- The versions of the models the running model reads, in a fixed order, or none when one of
    them keeps no version. -#}
{% macro inputs_version() %}
    {%- set versions = [] -%}
    {%- for unique_id in model.depends_on.nodes | sort -%}
        {%- set node = graph.nodes.get(unique_id) -%}
        {%- if node is none -%}
            {{ return(none) }}
        {%- endif -%}
        {%- set parent = api.Relation.create(database=node.database, schema=node.schema,
                                             identifier=node.alias or node.name, type='table') -%}
        {%- set kept = cdp.kept_version(parent) -%}
        {%- if kept is none or kept.output_version is none -%}
            {{ return(none) }}
        {%- endif -%}
        {%- do versions.append(node.name ~ '=' ~ kept.output_version) -%}
    {%- endfor -%}
    {{ return(versions | join(';')) }}
{% endmacro %}

{#- Statements: keep `output_version` (SQL text) as the version of `relation`. -#}
{% macro save_version(relation, sql_signature, inputs_version, output_version) -%}
    {%- set version = cdp.version_relation(relation) -%}
    drop table if exists {{ version }};
    create table {{ version }} as
    select
        cast({{ "'" ~ sql_signature ~ "'" if sql_signature else 'null' }} as {{ dbt.type_string() }}) as sql_signature,
        cast({{ "'" ~ inputs_version ~ "'" if inputs_version else 'null' }} as {{ dbt.type_string() }})
            as inputs_version,
        cast({{ output_version }} as {{ dbt.type_string() }}) as output_version
{%- endmacro %}

{#- Post-hook of a table that versioned tables read: its version is a digest of its content
    (row count and the sum of the rows' hashes) over its columns but `exclude` (columns no
    reader uses), so a build that gives the same rows gives the same version. -#}
{% macro save_content_version(exclude=[]) -%}
    {%- set columns = [] -%}
    {%- for column in adapter.get_columns_in_relation(this) if column.name | lower not in exclude -%}
        {%- do columns.append(adapter.quote(column.name)) -%}
    {%- endfor -%}
    {%- set digest -%}
        (
            select
                cast(count(*) as {{ dbt.type_string() }}) || ':'
                || coalesce(cast(sum({{ cdp.row_fingerprint('digested') }}) as {{ dbt.type_string() }}), '')
            from (
                select {{ columns | join(', ') }}
                from {{ this }}
            ) as digested
        )
    {%- endset -%}
    {{ cdp.save_version(this, none, none, digest) }}
{%- endmacro %}

{#- Whether the running model's table can stay as it is: {'keep': bool, 'signature': its SQL's
    fingerprint, 'inputs': its inputs' versions (none when one keeps none)}. -#}
{% macro versioned_build_decision(sql, existing_relation) %}
    {%- set signature = cdp.sql_signature(sql) -%}
    {%- set inputs = cdp.inputs_version() -%}
    {%- set kept = cdp.kept_version(this) if existing_relation is not none else none -%}
    {%- set keep = not flags.FULL_REFRESH and existing_relation is not none and kept is not none
                   and inputs is not none and kept.sql_signature == signature
                   and kept.inputs_version == inputs -%}
    {%- if keep -%}
        {{ log(model.config.materialized ~ ': ' ~ this ~ ' kept: same SQL, same inputs', info=true) }}
    {%- endif -%}
    {{ return({'keep': keep, 'signature': signature, 'inputs': inputs}) }}
{% endmacro %}

{#- The rest of a build that keeps the table as it is: no statement but the one dbt expects,
    the post-hooks, the commit; returns what a materialization returns. -#}
{% macro keep_versioned_relation(target_relation) %}
    {% call statement('main') -%}
        select 1 as kept
    {%- endcall %}
    {#- a kept table is unchanged: its statistics stand (no analyze_built_relation) -#}
    {%- set kept_hooks = [] -%}
    {%- for hook in post_hooks if 'analyze_built_relation' not in hook.get('sql') -%}
        {%- do kept_hooks.append(hook) -%}
    {%- endfor %}
    {{ run_hooks(kept_hooks, inside_transaction=True) }}
    {{ adapter.commit() }}
    {{ run_hooks(kept_hooks, inside_transaction=False) }}
    {{ return({'relations': [target_relation]}) }}
{% endmacro %}

{#- Statement: the version of a table just built from `decision` (versioned_build_decision). -#}
{% macro save_built_version(target_relation, decision) -%}
    {{ cdp.save_version(target_relation, decision.signature, decision.inputs, "'" ~ invocation_id ~ "'") }}
{%- endmacro %}

{#- The rest of a build that made `built` (a new table): it replaces the model's table (the
    previous one kept as a backup until the commit), the version is saved when `decision` is
    given, hooks and docs run; returns what a materialization returns. -#}
{% macro swap_in_built_relation(built, existing_relation, target_relation, decision=none) %}
    {%- set backup_relation = make_backup_relation(target_relation, 'table') -%}
    {{ drop_relation_if_exists(load_cached_relation(backup_relation) or backup_relation) }}
    {% if existing_relation is not none %}
        {{ adapter.rename_relation(existing_relation, backup_relation) }}
    {% endif %}
    {{ adapter.rename_relation(built, target_relation) }}
    {%- if decision is not none %}
        {% call statement('save_version') -%}
            {{ cdp.save_built_version(target_relation, decision) }}
        {%- endcall %}
    {%- endif %}
    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {% do persist_docs(target_relation, model) %}
    {{ adapter.commit() }}
    {{ drop_relation_if_exists(backup_relation) }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}
    {{ return({'relations': [target_relation]}) }}
{% endmacro %}

{% materialization versioned_table, default %}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set decision = cdp.versioned_build_decision(sql, existing_relation) -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {%- if decision.keep -%}
        {{ return(cdp.keep_versioned_relation(target_relation)) }}
    {%- endif %}

    {%- set intermediate = make_intermediate_relation(target_relation) -%}
    {{ drop_relation_if_exists(load_cached_relation(intermediate) or intermediate) }}
    {% call statement('main') -%}
        {{ get_create_table_as_sql(False, intermediate, sql) }}
    {%- endcall %}
    {{ return(cdp.swap_in_built_relation(intermediate, existing_relation, target_relation, decision)) }}
{% endmaterialization %}
