{%- set change_key = 'event_id' -%}
{{ config(change_key=change_key) }}

with source as (

    {{ cdp.changed_source_rows(source('consent', 'consent_events'), change_key) }}

),

typed as (

    select
        event_id,
        lower({{ cdp.clean_text('subject_type') }}) as subject_type,
        {{ cdp.clean_text('subject_value') }} as subject_value_raw,
        case lower({{ cdp.clean_text('subject_type') }})
            when 'email' then {{ cdp.email_key('subject_value') }}
            when 'phone' then {{ cdp.normalise_phone('subject_value') }}
            else {{ cdp.clean_identifier('subject_value') }}
        end as subject_value,
        lower({{ cdp.clean_text('purpose') }}) as purpose,
        lower({{ cdp.clean_text('status') }}) as status,
        lower({{ cdp.clean_text('source') }}) as consent_source,
        {{ cdp.blank_to_null('occurred_at') }} as occurred_at_raw,
        {{ cdp.parse_utc_timestamp('occurred_at') }} as occurred_at,
        {{ cdp.to_utc_timestamp('_loaded_at') }} as _loaded_at,
        {{ cdp.change_tracking_columns() }}
    from source

),

checked as (

    {{ cdp.check_rows('typed', key='event_id', latest_first='_loaded_at', checks=[
        ['event_id is null', 'missing_key'],
        ["subject_type is null or subject_type not in ('email', 'phone', 'user_id', 'anonymous_id')", 'unknown_subject_type'],
        ['subject_value_raw is null', 'missing_identity'],
        ["subject_type = 'email' and subject_value is null", 'malformed_email'],
        ['subject_value is null', 'invalid_identifier'],
        ["purpose is null or purpose not in ('email', 'sms', 'ads', 'analytics')", 'unknown_purpose'],
        ["status is null or status not in ('granted', 'denied')", 'unknown_status'],
        ['occurred_at_raw is null', 'missing_timestamp'],
        ['occurred_at is null', 'invalid_timestamp'],
    ]) }}

)

select * from checked
