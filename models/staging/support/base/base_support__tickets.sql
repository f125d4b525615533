{%- set change_key = 'id' -%}
{{ config(change_key=change_key) }}

with source as (

    {{ cdp.changed_source_rows(source('support', 'tickets'), change_key) }}

),

typed as (

    select
        id as ticket_id,
        cast(requester_id as {{ dbt.type_string() }}) as requester_id,
        {{ cdp.clean_email('requester_email') }} as requester_email,
        {{ cdp.email_key('requester_email') }} as requester_email_key,
        {{ cdp.normalise_phone('requester_phone') }} as requester_phone,
        {{ cdp.clean_text('requester_name') }} as requester_name,
        {{ cdp.normalise_name("split_part(" ~ cdp.clean_text('requester_name') ~ ", ' ', 1)") }}
            as requester_first_name_normalised,
        case
            when {{ cdp.clean_text('requester_name') }} like '% %'
                then {{ cdp.normalise_name(cdp.regex_extract(cdp.clean_text('requester_name'), ' ([^ ]+)$')) }}
        end as requester_last_name_normalised,
        {{ cdp.clean_text('subject') }} as subject,
        lower({{ cdp.clean_text('channel') }}) as channel,
        lower({{ cdp.clean_text('status') }}) as status,
        lower({{ cdp.clean_text('priority') }}) as priority,
        lower({{ cdp.clean_text('satisfaction_rating') }}) as satisfaction_rating,
        {{ cdp.to_utc_timestamp('created_at') }} as created_at,
        {{ cdp.to_utc_timestamp('updated_at') }} as updated_at,
        {{ cdp.to_utc_timestamp('solved_at') }} as solved_at,
        {{ cdp.to_utc_timestamp('_fivetran_synced') }} as _loaded_at,
        {{ cdp.change_tracking_columns() }}
    from source

),

checked as (

    {{ cdp.check_rows('typed', key='ticket_id', latest_first=['updated_at', '_loaded_at'], checks=[
        ['ticket_id is null', 'missing_key'],
        ['created_at is null', 'missing_timestamp'],
        ["status is null or status not in ('new', 'open', 'pending', 'hold', 'solved', 'closed')", 'unknown_status'],
    ]) }}

)

select * from checked
