{%- set change_key = 'event_id' -%}
{{ config(change_key=change_key) }}

with source as (

    {{ cdp.changed_source_rows(source('email', 'email_events'), change_key) }}

),

typed as (

    select
        event_id,
        lower({{ cdp.clean_text('event_type') }}) as event_type,
        {{ cdp.clean_text('email') }} as email_raw,
        {{ cdp.clean_email('email') }} as email,
        {{ cdp.email_key('email') }} as email_key,
        {{ cdp.clean_identifier('campaign_id') }} as campaign_id,
        {{ cdp.clean_text('campaign_name') }} as campaign_name,
        {{ cdp.blank_to_null('occurred_at') }} as occurred_at_raw,
        {{ cdp.parse_utc_timestamp('occurred_at') }} as occurred_at,
        {{ cdp.clean_text('url') }} as url,
        {{ cdp.clean_text('bounce_reason') }} as bounce_reason,
        {{ cdp.clean_text('user_agent') }} as user_agent,
        {{ cdp.to_utc_timestamp('_loaded_at') }} as _loaded_at,
        {{ cdp.change_tracking_columns() }}
    from source

),

checked as (

    {{ cdp.check_rows('typed', key='event_id', latest_first='_loaded_at', checks=[
        ['event_id is null', 'missing_key'],
        ['email_raw is null', 'missing_identity'],
        ['email is null', 'malformed_email'],
        ['occurred_at_raw is null', 'missing_timestamp'],
        ['occurred_at is null', 'invalid_timestamp'],
        ["event_type is null or event_type not in ('send', 'delivered', 'open', 'click', 'bounce', 'unsubscribe', 'spamreport')", 'unknown_event_type'],
    ]) }}

)

select * from checked
