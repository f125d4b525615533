{#- int_events__unioned record by record: a build writes again only the events of the records
    whose base rows were staged or removed since the table last applied (as
    int_identity__record_identifiers finds them, macros/identity/incremental_identity.sql);
    every row on --full-refresh, a first build, a missing state and a changed SQL signature.
    A new event source needs a base model named like its staged model, as identity sources do. -#}

{% macro unioned_event_columns() %}
    {{ return([
        ['occurred_at', dbt.type_timestamp()],
        ['event_type', dbt.type_string()],
        ['event_name', dbt.type_string()],
        ['channel', dbt.type_string()],
        ['revenue', dbt.type_numeric()],
    ]) }}
{% endmacro %}

{#- Rows of int_events__unioned: of every record, or (changed: a relation of source_table,
    record_id) of those only. -#}
{% macro unioned_event_rows(entries, changed=none) %}
    {%- set filtered = [] -%}
    {%- for entry in entries -%}
        {%- set copy = entry.copy() -%}
        {%- if changed is not none -%}
            {%- set record_id = 'cast(' ~ entry.model ~ '.' ~ entry.record_id ~ ' as ' ~ dbt.type_string() ~ ')' -%}
            {%- set only_changed = cdp.only_changed_records(changed, "'" ~ entry.source_table ~ "'", record_id) -%}
            {%- do copy.update({'where': '(' ~ entry.get('where', 'true') ~ ')' ~ only_changed}) -%}
        {%- endif -%}
        {%- do filtered.append(copy) -%}
    {%- endfor %}
with

{{ cdp.import_ctes(entries | map(attribute='model')) }}

unioned as (

    {{ cdp.union_entries(filtered, cdp.unioned_event_columns()) }}

)

select * from unioned
{% endmacro %}

{% macro unioned_events_plan() %}
    {%- set entries = cdp.enabled_entries(cdp.event_sources()) -%}
    {%- set signature = cdp.sql_signature(cdp.unioned_event_rows(entries)) -%}
    {%- set plan = cdp.identity_build_plan(signature) -%}
    {%- do plan.update({'entries': entries, 'signature': signature, 'changed': cdp.work_relation(this, 'changed')}) -%}
    {{ return(plan) }}
{% endmacro %}

{% macro unioned_events_pre_hook() -%}
    {{ cdp.rewrite_changed_records_pre_hook(cdp.unioned_events_plan()) }}
{%- endmacro %}

{% macro unioned_events_post_hook() -%}
    {{ cdp.rewrite_changed_records_post_hook(cdp.unioned_events_plan()) }}
{%- endmacro %}
