{#- Every identifier every staged record carries: one row per record and identifier. Person
    records also carry their person profile (their normalised name, address, birth date,
    phone and email together), through which probabilistic matches enter the graph. -#}
{%- set entries = cdp.enabled_entries(cdp.identity_record_sources()) -%}

with record_profiles as (

    select * from {{ ref('int_matching__record_profiles') }}

),

{{ cdp.import_ctes(entries | map(attribute='model')) }}

record_identifiers as (

    select
        source_table,
        record_id,
        'person_profile' as identifier_type,
        profile_key as identifier_value,
        observed_at
    from record_profiles
    {%- for entry in entries %}
        {%- for identifier_type, column in entry.identifiers %}

            union all

            select
                '{{ entry.source_table }}' as source_table,
                cast({{ entry.record_id }} as {{ dbt.type_string() }}) as record_id,
                '{{ identifier_type }}' as identifier_type,
                cast({{ column }} as {{ dbt.type_string() }}) as identifier_value,
                {{ entry.observed_at }} as observed_at
            from {{ entry.model }}
            where {{ column }} is not null
        {%- endfor %}
    {%- endfor %}

)

select * from record_identifiers
