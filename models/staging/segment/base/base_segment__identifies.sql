{%- set change_key = 'id' -%}
{{ config(change_key=change_key) }}

with source as (

    {{ cdp.changed_source_rows(source('segment', 'identifies'), change_key) }}

),

typed as (

    select
        {{ cdp.segment_common_columns() }},
        {{ cdp.clean_email('email') }} as email,
        {{ cdp.email_key('email') }} as email_key,
        {{ cdp.clean_text('first_name') }} as first_name,
        {{ cdp.clean_text('last_name') }} as last_name,
        {{ cdp.normalise_phone('phone') }} as phone,
        {{ cdp.change_tracking_columns() }}
    from source

),

checked as (

    {{ cdp.check_rows('typed', key='event_id', latest_first='_loaded_at', checks=cdp.segment_reject_checks()) }}

)

select * from checked
