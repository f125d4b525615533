{#-
    Helper functions some engines lack, created at the start of every dbt invocation.

    DuckDB has try_cast built in, so it needs nothing. Postgres has no non-raising cast:
    staging would fail on the first unparseable timestamp instead of rejecting the row,
    so we create small plpgsql functions that return null where a cast would raise.
    They live in the target schema.
-#}
{% macro cdp_create_udfs() %}
    {{ return(adapter.dispatch('cdp_create_udfs', 'cdp')()) }}
{% endmacro %}

{% macro default__cdp_create_udfs() %}
    select 1
{% endmacro %}

{% macro postgres__cdp_create_udfs() %}
    {%- set schema = target.schema -%}
    create schema if not exists {{ schema }};
    {%- for type_name, pg_type in [
        ('timestamp', 'timestamp'),
        ('timestamptz', 'timestamptz'),
        ('date', 'date'),
        ('numeric', 'numeric'),
        ('integer', 'integer'),
        ('bigint', 'bigint'),
    ] %}
    create or replace function {{ schema }}.cdp_try_cast_{{ type_name }}(value text)
    returns {{ pg_type }}
    language plpgsql immutable
    set timezone to 'UTC'
    as $fn$
    begin
        return value::{{ pg_type }};
    exception when others then
        return null;
    end;
    $fn$;
    {%- endfor %}
{% endmacro %}
