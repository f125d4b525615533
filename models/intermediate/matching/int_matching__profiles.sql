{#- One row per distinct normalised person profile, with the derived keys blocking rules
    and comparisons use. Shared emails and phones (int_matching__shared_values) are left out:
    they say nothing about who a profile is.
    Its post-hook keeps a version of its content (record_count aside, which no matcher table
    reads): the matcher's tables past it are built again only when it changed
    (macros/materializations/versioned_table.sql). -#}
{{ config(post_hook="{{ cdp.save_content_version(exclude=['record_count']) }}") }}

with record_profiles as (

    select * from {{ ref('int_matching__record_profiles') }}

),

nicknames as (

    select * from {{ ref('nicknames') }}

),

shared_values as {{ cdp.inlined_cte() }} (

    select * from {{ ref('int_matching__shared_values') }}

),

profiles as (

    select
        profile_key,
        first_name,
        last_name,
        birth_date,
        address_line,
        city,
        postcode,
        phone,
        email,
        count(*) as record_count
    from record_profiles
    group by profile_key, first_name, last_name, birth_date, address_line, city, postcode, phone, email

),

usable as (

    select
        profiles.profile_key,
        profiles.first_name,
        profiles.last_name,
        profiles.birth_date,
        profiles.address_line,
        profiles.city,
        profiles.postcode,
        case when shared_phones.identifier_value is null then profiles.phone end as phone,
        case when shared_emails.identifier_value is null then profiles.email end as email,
        profiles.record_count
    from profiles
    left join shared_values as shared_phones
        on shared_phones.identifier_type = 'phone'
        and profiles.phone = shared_phones.identifier_value
    left join shared_values as shared_emails
        on shared_emails.identifier_type = 'email'
        and profiles.email = shared_emails.identifier_value

),

final as (

    select
        cast(dense_rank() over (order by profiles.profile_key) as {{ dbt.type_bigint() }}) as profile_id,
        profiles.profile_key,
        profiles.first_name,
        profiles.last_name,
        profiles.birth_date,
        profiles.address_line,
        profiles.city,
        profiles.postcode,
        profiles.phone,
        profiles.email,
        profiles.record_count,
        coalesce(nicknames.formal_name, profiles.first_name) as first_name_formal,
        substr(profiles.first_name, 1, 1) as first_initial,
        substr(profiles.last_name, 1, 3) as last_name_prefix,
        {{ cdp.parse_date('profiles.birth_date') }} as birth_day,
        substr(profiles.birth_date, 1, 4) as birth_year,
        split_part(profiles.email, '@', 1) as email_local,
        {{ cdp.email_from_name('profiles.email', 'profiles.first_name', 'profiles.last_name') }} as email_from_name,
        substr(profiles.phone, length(profiles.phone) - 6, 7) as phone_last7,
        {{ cdp.regex_extract('profiles.address_line', '^([0-9]+)') }} as street_number
    from usable as profiles
    left join nicknames
        on profiles.first_name = nicknames.nickname

)

select * from final
