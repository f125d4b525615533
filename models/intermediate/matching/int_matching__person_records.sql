{#- Person records the matcher compares: the staged records that describe a person, or,
    for a standalone run (`cdp eval-matching`), the table named by var matching_input_relation. -#}
{%- set input_relation = var('matching_input_relation') -%}
{%- set entries = cdp.enabled_entries(cdp.matching_person_sources()) -%}
{%- set attributes = ['first_name', 'last_name', 'birth_date', 'address_line', 'city', 'postcode', 'phone', 'email'] -%}

{% if input_relation %}

with input_records as (

    select * from {{ input_relation }}

),

final as (

    select
        'input' as source_table,
        cast(record_id as {{ dbt.type_string() }}) as record_id,
        cast(null as {{ dbt.type_timestamp() }}) as observed_at,
        {%- for attribute in attributes %}
        cast({{ attribute }} as {{ dbt.type_string() }}) as {{ attribute }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from input_records

)

select * from final

{% else %}

with

{{ cdp.import_ctes(entries | map(attribute='model')) }}

unioned as (

    {%- for entry in entries %}

    select
        '{{ entry.source_table }}' as source_table,
        cast({{ entry.record_id }} as {{ dbt.type_string() }}) as record_id,
        {{ entry.observed_at }} as observed_at,
        {%- for attribute in attributes %}
        cast({{ entry[attribute] }} as {{ dbt.type_string() }}) as {{ attribute }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ entry.model }}
    {% if not loop.last %}union all{% endif %}
    {%- else %}

    {{ cdp.empty_select([
        ['source_table', dbt.type_string()],
        ['record_id', dbt.type_string()],
        ['observed_at', dbt.type_timestamp()],
        ['first_name', dbt.type_string()],
        ['last_name', dbt.type_string()],
        ['birth_date', dbt.type_string()],
        ['address_line', dbt.type_string()],
        ['city', dbt.type_string()],
        ['postcode', dbt.type_string()],
        ['phone', dbt.type_string()],
        ['email', dbt.type_string()],
    ]) }}
    {%- endfor %}

)

select * from unioned

{% endif %}
