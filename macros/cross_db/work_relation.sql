{#- A scratch table next to `relation` for a step of a multi-statement algorithm, named so it
    fits every engine's identifier limit (Postgres: 63 characters): a prefix of the relation's
    name, a hash of the whole name, and the part. -#}
{% macro work_relation(relation, part) %}
    {%- set identifier = relation.identifier[:32] ~ '_' ~ local_md5(relation.identifier)[:8] ~ '__' ~ part -%}
    {{ return(api.Relation.create(database=relation.database, schema=relation.schema,
                                  identifier=identifier[:63], type='table')) }}
{% endmacro %}
