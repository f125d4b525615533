{#-
    Access on the server warehouse (on-run-end). Models name the roles that may read them in
    `meta: {cdp_access: [bi, sync]}`; bi and sync stand for the roles in vars access_bi_role
    and access_sync_role. Each run (tables are rebuilt, so grants are too) gives those roles
    usage on the marts schema and select on exactly those relations, and takes every other
    table privilege in that schema away from them. Raw, staging and intermediate schemas are
    never granted. Relations not built (a model selected out) are skipped. On Postgres the score
    tables `cdp score` writes (var access_bi_score_tables) are granted to the BI role too;
    model_evaluations, which holds the fitted models, is not. The sync role also
    owns its working schema, <target schema>_sync (sync state, suppression list, run logs),
    created here when missing. With var access_create_roles the roles are created (LOGIN, no password:
    set one, or let your identity provider own them) when missing. DuckDB has no roles:
    nothing happens there.
-#}
{% macro cdp_grant_access() %}
    {{ return(adapter.dispatch('cdp_grant_access', 'cdp')()) }}
{% endmacro %}

{% macro default__cdp_grant_access() %}
    select 1
{% endmacro %}

{% macro postgres__cdp_grant_access() %}
    {%- if not execute -%}
        {{ return('select 1') }}
    {%- endif -%}
    {%- set roles = {'bi': var('access_bi_role'), 'sync': var('access_sync_role')} -%}
    {%- set grants = {} -%}
    {%- set schemas = [] -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.config.enabled -%}
        {%- for alias in node.config.meta.get('cdp_access', []) -%}
            {%- if alias not in roles -%}
                {{ exceptions.raise_compiler_error("model " ~ node.name ~ ": meta cdp_access lists '" ~ alias
                    ~ "'; use bi or sync") }}
            {%- endif -%}
            {%- set relation = adapter.get_relation(database=node.database, schema=node.schema,
                                                    identifier=node.alias or node.name) -%}
            {%- if relation is not none -%}
                {%- do grants.setdefault(roles[alias], []).append(relation) -%}
                {%- if node.schema not in schemas -%}{%- do schemas.append(node.schema) -%}{%- endif -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {#- The score tables `cdp score` writes on Postgres (no dbt Python models run there). -#}
    {%- set marts_schema = target.schema ~ '_marts' -%}
    {%- for table in var('access_bi_score_tables', []) -%}
        {%- set relation = adapter.get_relation(database=target.database, schema=marts_schema, identifier=table) -%}
        {%- if relation is not none -%}
            {%- do grants.setdefault(roles['bi'], []).append(relation) -%}
            {%- if marts_schema not in schemas -%}{%- do schemas.append(marts_schema) -%}{%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set statements = [] -%}
    {%- for role in roles.values() -%}
        {%- if var('access_create_roles') -%}
            {#- Roles belong to the whole server: two builds (of two databases) may create one at once. -#}
            {%- do statements.append("do $$ begin if not exists (select from pg_roles where rolname = '" ~ role
                ~ "') then create role " ~ adapter.quote(role) ~ " login; end if; "
                ~ "exception when duplicate_object or unique_violation then null; end $$") -%}
        {%- endif -%}
        {%- for schema in schemas -%}
            {%- do statements.append('grant usage on schema ' ~ adapter.quote(schema) ~ ' to ' ~ adapter.quote(role)) -%}
            {%- do statements.append('revoke all on all tables in schema ' ~ adapter.quote(schema) ~ ' from '
                ~ adapter.quote(role)) -%}
        {%- endfor -%}
        {%- for relation in grants.get(role, []) -%}
            {%- do statements.append('grant select on ' ~ relation ~ ' to ' ~ adapter.quote(role)) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- set sync_schema = adapter.quote(target.schema ~ '_sync') -%}
    {%- set sync_role = adapter.quote(roles['sync']) -%}
    {%- do statements.append('create schema if not exists ' ~ sync_schema) -%}
    {%- do statements.append('grant usage, create on schema ' ~ sync_schema ~ ' to ' ~ sync_role) -%}
    {%- do statements.append('grant select, insert, update, delete on all tables in schema ' ~ sync_schema
        ~ ' to ' ~ sync_role) -%}
    {{ return(statements | join(';\n')) }}
{% endmacro %}
