{#- A scratch table next to `relation` for a step of a multi-statement algorithm, named so it
    fits every engine's identifier limit (Postgres: 63 characters): a prefix of the relation's
    name, a hash of the whole name, and the part. -#}
{% macro work_relation(relation, part) %}
    {%- set identifier = relation.identifier[:32] ~ '_' ~ local_md5(relation.identifier)[:8] ~ '__' ~ part -%}
    {{ return(api.Relation.create(database=relation.database, schema=relation.schema,
                                  identifier=identifier[:63], type='table')) }}
{% endmacro %}

{#- Whether a table exists now, asked of the warehouse rather than dbt's relation cache (which
    does not know the tables hooks created earlier in the same invocation). -#}
{% macro relation_exists(relation) %}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set sql -%}
        select count(*)
        from information_schema.tables
        where table_schema = '{{ relation.schema }}'
            and table_name = '{{ relation.identifier }}'
            {%- if relation.database %}
            and table_catalog = '{{ relation.database }}'
            {%- endif %}
    {%- endset -%}
    {{ return(run_query(sql).rows[0][0] | int > 0) }}
{% endmacro %}
