with source as (

    select * from {{ source('segment', 'screens') }}

),

typed as (

    select
        {{ cdp.segment_common_columns() }},
        {{ cdp.clean_text('name') }} as screen_name
    from source

),

checked as (

    {{ cdp.check_rows('typed', key='event_id', latest_first='_loaded_at', checks=cdp.segment_reject_checks()) }}

)

select * from checked
