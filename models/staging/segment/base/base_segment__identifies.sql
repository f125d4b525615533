with source as (

    select * from {{ source('segment', 'identifies') }}

),

typed as (

    select
        {{ cdp.segment_common_columns() }},
        {{ cdp.clean_email('email') }} as email,
        {{ cdp.email_key('email') }} as email_key,
        {{ cdp.clean_text('first_name') }} as first_name,
        {{ cdp.clean_text('last_name') }} as last_name,
        {{ cdp.normalise_phone('phone') }} as phone
    from source

),

checked as (

    {{ cdp.check_rows('typed', key='event_id', latest_first='_loaded_at', checks=cdp.segment_reject_checks()) }}

)

select * from checked
