{#- Every person record normalised into the form the matcher compares, with the key of its
    profile: records with identical normalised attributes share one profile and are compared
    once. Records with no name, or a name and nothing else, take no part. -#}

with person_records as (

    select * from {{ ref('int_matching__person_records') }}

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
