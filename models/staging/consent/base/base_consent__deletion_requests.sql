{%- set change_key = 'request_id' -%}
{{ config(change_key=change_key) }}

with source as (

    {{ cdp.changed_source_rows(source('consent', 'deletion_requests'), change_key) }}

),

typed as (

    select
        request_id,
        {{ cdp.clean_email('email') }} as email,
        {{ cdp.email_key('email') }} as email_key,
        {{ cdp.normalise_phone('phone') }} as phone,
        {{ cdp.clean_identifier('user_id') }} as user_id,
        {{ cdp.blank_to_null('requested_at') }} as requested_at_raw,
        {{ cdp.parse_utc_timestamp('requested_at') }} as requested_at,
        lower({{ cdp.clean_text('status') }}) as status,
        {{ cdp.to_utc_timestamp('_loaded_at') }} as _loaded_at,
        {{ cdp.change_tracking_columns() }}
    from source

),

checked as (

    {{ cdp.check_rows('typed', key='request_id', latest_first='_loaded_at', checks=[
        ['request_id is null', 'missing_key'],
        ['email_key is null and phone is null and user_id is null', 'missing_identity'],
        ['requested_at_raw is null', 'missing_timestamp'],
        ['requested_at is null', 'invalid_timestamp'],
    ]) }}

)

select * from checked
