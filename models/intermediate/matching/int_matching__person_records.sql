{#- Person records the matcher compares: the staged records that describe a person, or,
    for a standalone run (`cdp eval-matching`), the table named by var matching_input_relation
    (its own record_id and the canonical attribute columns; no observation time). -#}
{%- set input_relation = var('matching_input_relation') -%}
{%- set attributes = ['first_name', 'last_name', 'birth_date', 'address_line', 'city', 'postcode', 'phone', 'email'] -%}
{%- set columns = [['observed_at', dbt.type_timestamp()]] -%}
{%- for attribute in attributes -%}{%- do columns.append([attribute, dbt.type_string()]) -%}{%- endfor -%}
{%- if input_relation -%}
    {%- set entry = {'source_table': 'input', 'model': input_relation, 'record_id': 'record_id', 'observed_at': 'null'} -%}
    {%- for attribute in attributes -%}{%- do entry.update({attribute: attribute}) -%}{%- endfor -%}
    {%- set entries = [entry] -%}
    {%- set imports = [] -%}
{%- else -%}
    {%- set entries = cdp.enabled_entries(cdp.matching_person_sources()) -%}
    {%- set imports = entries | map(attribute='model') -%}
{%- endif %}

with

{{ cdp.import_ctes(imports) }}

unioned as (

    {{ cdp.union_entries(entries, columns) }}

)

select * from unioned
