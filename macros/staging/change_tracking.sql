{#-
    Incremental base models: a build reads only the raw rows of records that changed.

    Every base model is an incremental table. Each row keeps two columns besides its own:
        _change_key       the record key as raw text (the base model's `change_key` config:
                          an expression over the raw columns equal to its typed key; '' when
                          the key is missing), the unit that is staged again;
        _row_fingerprint  a hash of the whole raw row;
        _staged_at        when the build that staged it started (dbt's run_started_at, UTC):
                          the rows of every record staged again carry the newer moment, so
                          models built record by record downstream (int_identity__record_identifiers)
                          find what changed since their own last build without comparing everything.
    A build compares, per change key, the number of raw rows and the sum of their fingerprints
    with what the table holds; the keys that differ (new records, redelivered or corrected
    copies, a copy taken away) are typed and checked again, all their copies together, so that
    _version_rank is the one a full refresh gives; dbt's delete+insert on _change_key swaps
    them in. A post-hook removes the keys no raw row carries any more. So a raw row changed in
    place, loaded late, loaded twice or deleted is staged as a full refresh would stage it.

    A change to a base model's SQL or to a normalising macro is not a change of the raw data:
    after one, run `cdp build --full-refresh` (dbt's on_schema_change='fail' stops an
    incremental build whose columns changed).
-#}

{#- The change key of the raw row aliased `src`, as text: key is the model's change_key. -#}
{% macro change_key_sql(key) -%}
    {%- if not key and execute -%}
        {{ exceptions.raise_compiler_error("model " ~ model.name ~ ": config change_key (the record key as an "
            ~ "expression over the raw columns) is missing") }}
    {%- endif -%}
    coalesce(cast(({{ key }}) as {{ dbt.type_string() }}), '')
{%- endmacro %}

{#- A 64-bit hash of the whole raw row aliased `alias` (its columns, nulls included). -#}
{% macro row_fingerprint(alias) -%}
    {{ return(adapter.dispatch('row_fingerprint', 'cdp')(alias)) }}
{%- endmacro %}

{% macro default__row_fingerprint(alias) -%}
    hash({{ alias }})
{%- endmacro %}

{#- Postgres hashes the row's text form, in which timestamptz values follow the session time
    zone: cdp runs dbt with PGTZ=UTC; a build in another zone restages every row once (the
    same rows, only slower). -#}
{% macro postgres__row_fingerprint(alias) -%}
    hashtextextended(cast({{ alias }} as text), 0)
{%- endmacro %}

{#- Body of a base model's `source` step: the raw rows to stage in this build, with their
    _change_key and _row_fingerprint (key: the model's change_key). A full build takes every
    row; an incremental one the rows of the change keys whose copies differ from those the
    table holds. -#}
{% macro changed_source_rows(source_relation, key) -%}
    {%- set change_key = cdp.change_key_sql(key) -%}
    select
        src.*,
        {{ change_key }} as _change_key,
        {{ cdp.row_fingerprint('src') }} as _row_fingerprint,
        {{ cdp.run_started_at_sql() }} as _staged_at
    from {{ source_relation }} as src
    {%- if is_incremental() %}
    where {{ change_key }} in (
        select arriving._change_key
        from (
            select
                {{ change_key }} as _change_key,
                count(*) as _copies,
                sum({{ cdp.row_fingerprint('src') }}) as _fingerprints
            from {{ source_relation }} as src
            group by 1
        ) as arriving
        left join (
            select
                _change_key,
                count(*) as _copies,
                sum(_row_fingerprint) as _fingerprints
            from {{ this }}
            group by 1
        ) as kept
            on arriving._change_key = kept._change_key
        where
            kept._change_key is null
            or arriving._copies <> kept._copies
            or arriving._fingerprints <> kept._fingerprints
    )
    {%- endif %}
{%- endmacro %}

{#- The change-tracking columns a base model's typed step carries through. -#}
{% macro change_tracking_columns() -%}
    _change_key,
        _row_fingerprint,
        _staged_at
{%- endmacro %}

{#- The moment this dbt invocation started, as a UTC timestamp literal. -#}
{% macro run_started_at_sql() -%}
    cast('{{ run_started_at.strftime('%Y-%m-%d %H:%M:%S.%f') }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{#- Post-hook of every base model (dbt_project.yml): remove the records whose raw rows are all
    gone. The raw table is the one source the model reads. The removed rows are first copied,
    with the moment (_vanished_at), to the table's vanished-rows log (<model>__vanished, beside
    it), so that models built record by record downstream learn which records went away; the
    log is started again when the model's columns change. -#}
{% macro delete_vanished_source_rows(relation) -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- if model.sources | length != 1 -%}
        {{ exceptions.raise_compiler_error("base model " ~ model.name ~ " must read exactly one source table, reads "
            ~ model.sources | length) }}
    {%- endif -%}
    {%- set source_relation = source(model.sources[0][0], model.sources[0][1]) -%}
    {%- set log = cdp.vanished_rows_relation(relation) -%}
    {%- if cdp.relation_exists(log) -%}
        {%- set logged = adapter.get_columns_in_relation(log) | map(attribute='name') | map('lower') | list -%}
        {%- set staged = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
        {%- if logged != staged + ['_vanished_at'] %}
    drop table {{ log }};
        {%- endif %}
    {%- endif %}
    {%- set vanished_keys = cdp.work_relation(relation, 'vanished_keys') %}
    drop table if exists {{ vanished_keys }};
    create table {{ vanished_keys }} as
    select distinct kept._change_key
    from {{ relation }} as kept
    where not exists (
        select 1
        from {{ source_relation }} as src
        where {{ cdp.change_key_sql(config.get('change_key')) }} = kept._change_key
    );
    create table if not exists {{ log }} as
    select kept.*, {{ cdp.run_started_at_sql() }} as _vanished_at
    from {{ relation }} as kept
    where 1 = 0;
    insert into {{ log }}
    select kept.*, {{ cdp.run_started_at_sql() }} as _vanished_at
    from {{ relation }} as kept
    where kept._change_key in (select vanished_keys._change_key from {{ vanished_keys }} as vanished_keys);
    delete from {{ relation }}
    where _change_key in (select vanished_keys._change_key from {{ vanished_keys }} as vanished_keys);
    drop table {{ vanished_keys }}
{%- endmacro %}

{#- The vanished-rows log of a base model (see delete_vanished_source_rows). -#}
{% macro vanished_rows_relation(base_relation) %}
    {{ return(api.Relation.create(database=base_relation.database, schema=base_relation.schema,
                                  identifier=base_relation.identifier ~ '__vanished', type='table')) }}
{% endmacro %}
