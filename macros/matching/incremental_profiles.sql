{#- int_matching__record_profiles record by record: a build normalises again only the person
    records staged or removed since the table last applied (as int_identity__record_identifiers
    finds them, macros/identity/incremental_identity.sql); every record on --full-refresh, a
    first build, a missing state, a changed SQL signature and a standalone matching run (var
    matching_input_relation), whose input has no base model. -#}

{#- Rows of int_matching__record_profiles: of every person record, or (changed: a relation of
    source_table, record_id) of those only. -#}
{% macro record_profile_rows(changed=none) %}
with person_records as (

    select * from {{ ref('int_matching__person_records') }} as records
    where true{{ cdp.only_changed_records(changed, 'records.source_table', 'records.record_id') }}

),

normalised as {{ cdp.materialized_cte() }} (

    select
        source_table,
        record_id,
        observed_at,
        {{ cdp.normalise_name('first_name') }} as first_name,
        {{ cdp.normalise_name('last_name') }} as last_name,
        case
            when {{ cdp.parse_date('birth_date') }} is not null
                then cast({{ cdp.parse_date('birth_date') }} as {{ dbt.type_string() }})
            else {{ cdp.clean_text('birth_date') }}
        end as birth_date,
        {{ cdp.normalise_address('address_line') }} as address_line,
        lower({{ cdp.clean_text('city') }}) as city,
        {{ cdp.normalise_postcode('postcode') }} as postcode,
        {{ cdp.normalise_phone('phone') }} as phone,
        {{ cdp.email_key('email') }} as email
    from person_records

),

eligible as (

    select *
    from normalised
    where (first_name is not null or last_name is not null)
        and (
            birth_date is not null or address_line is not null or postcode is not null
            or phone is not null or email is not null
            or (first_name is not null and last_name is not null and city is not null)
        )

),

final as (

    select
        source_table,
        record_id,
        observed_at,
        first_name,
        last_name,
        birth_date,
        address_line,
        city,
        postcode,
        phone,
        email,
        {{ dbt.hash(
            "coalesce(first_name, '') || '|' || coalesce(last_name, '') || '|' || coalesce(birth_date, '') || '|'"
            ~ " || coalesce(address_line, '') || '|' || coalesce(city, '') || '|' || coalesce(postcode, '') || '|'"
            ~ " || coalesce(phone, '') || '|' || coalesce(email, '')"
        ) }} as profile_key
    from eligible

)

select * from final
{% endmacro %}

{% macro record_profiles_plan() %}
    {%- set entries = cdp.enabled_entries(cdp.matching_person_sources()) -%}
    {%- set signature = cdp.sql_signature(cdp.record_profile_rows()) -%}
    {%- set plan = cdp.identity_build_plan(signature) -%}
    {%- if var('matching_input_relation') -%}
        {%- do plan.update({'full': true}) -%}
    {%- endif -%}
    {%- do plan.update({'entries': entries, 'signature': signature, 'changed': cdp.work_relation(this, 'changed')}) -%}
    {{ return(plan) }}
{% endmacro %}

{% macro record_profiles_pre_hook() -%}
    {{ cdp.rewrite_changed_records_pre_hook(cdp.record_profiles_plan()) }}
{%- endmacro %}

{% macro record_profiles_post_hook() -%}
    {{ cdp.rewrite_changed_records_post_hook(cdp.record_profiles_plan()) }}
{%- endmacro %}
