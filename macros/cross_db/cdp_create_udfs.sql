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

    create extension if not exists fuzzystrmatch;

    create or replace function {{ schema }}.cdp_jaro_winkler(left_text text, right_text text)
    returns double precision
    language plpgsql immutable strict parallel safe
    as $fn$
    declare
        a text[] := string_to_array(left_text, null);
        b text[] := string_to_array(right_text, null);
        left_length integer := coalesce(array_length(a, 1), 0);
        right_length integer := coalesce(array_length(b, 1), 0);
        window_size integer;
        right_matched boolean[];
        left_matches text[] := '{}';
        matches integer := 0;
        half_transpositions integer := 0;
        i integer;
        j integer;
        k integer := 0;
        ch text;
        similarity double precision;
        prefix integer := 0;
    begin
        if left_length = 0 or right_length = 0 then
            return 0.0;
        end if;
        if left_text = right_text then
            return 1.0;
        end if;
        window_size := greatest(greatest(left_length, right_length) / 2 - 1, 0);
        right_matched := array_fill(false, array[right_length]);
        for i in 1..left_length loop
            ch := a[i];
            for j in greatest(1, i - window_size)..least(right_length, i + window_size) loop
                if b[j] = ch and not right_matched[j] then
                    right_matched[j] := true;
                    matches := matches + 1;
                    left_matches[matches] := ch;
                    exit;
                end if;
            end loop;
        end loop;
        if matches = 0 then
            return 0.0;
        end if;
        for j in 1..right_length loop
            if right_matched[j] then
                k := k + 1;
                if b[j] <> left_matches[k] then
                    half_transpositions := half_transpositions + 1;
                end if;
            end if;
        end loop;
        similarity := (
            matches::double precision / left_length
            + matches::double precision / right_length
            + (matches - half_transpositions / 2)::double precision / matches
        ) / 3.0;
        if similarity > 0.7 then
            while prefix < least(4, left_length, right_length) and a[prefix + 1] = b[prefix + 1] loop
                prefix := prefix + 1;
            end loop;
            similarity := similarity + prefix * 0.1 * (1.0 - similarity);
        end if;
        return similarity;
    end;
    $fn$;
{% endmacro %}
