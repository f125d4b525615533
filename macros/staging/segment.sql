{#- Columns every Segment table shares, typed and normalised (used by the segment base models). -#}
{% macro segment_common_columns() -%}
        id as event_id,
        {{ cdp.clean_identifier('anonymous_id') }} as anonymous_id,
        {{ cdp.clean_identifier('user_id') }} as user_id,
        {{ cdp.to_utc_timestamp('"timestamp"') }} as occurred_at,
        {{ cdp.to_utc_timestamp('original_timestamp') }} as device_occurred_at,
        {{ cdp.to_utc_timestamp('sent_at') }} as sent_at,
        {{ cdp.to_utc_timestamp('received_at') }} as received_at,
        {{ cdp.to_utc_timestamp('uuid_ts') }} as _loaded_at,
        {{ cdp.clean_text('context_ip') }} as ip_address,
        {{ cdp.clean_text('context_user_agent') }} as user_agent,
        {{ cdp.clean_text('context_library_name') }} as library_name,
        case {{ cdp.clean_text('context_library_name') }}
            when 'analytics.js' then 'web'
            when 'analytics-ios' then 'ios'
            when 'analytics-android' then 'android'
            else 'other'
        end as platform,
        {{ cdp.clean_text('context_page_url') }} as context_page_url,
        {{ cdp.clean_text('context_page_referrer') }} as context_page_referrer,
        lower({{ cdp.clean_text('context_campaign_source') }}) as utm_source,
        lower({{ cdp.clean_text('context_campaign_medium') }}) as utm_medium,
        {{ cdp.clean_text('context_campaign_name') }} as utm_campaign,
        {{ cdp.clean_identifier('context_device_id') }} as device_id,
        {{ cdp.clean_identifier('context_device_advertising_id') }} as advertising_id,
        lower({{ cdp.clean_text('context_device_type') }}) as device_type,
        {{ cdp.clean_text('context_os_name') }} as os_name,
        {{ cdp.clean_text('context_app_version') }} as app_version
{%- endmacro %}

{#- The same columns by their staged names, for the staged models' select lists. -#}
{% macro segment_common_column_names() -%}
        event_id,
        anonymous_id,
        user_id,
        occurred_at,
        device_occurred_at,
        sent_at,
        received_at,
        _loaded_at,
        ip_address,
        user_agent,
        library_name,
        platform,
        context_page_url,
        context_page_referrer,
        utm_source,
        utm_medium,
        utm_campaign,
        device_id,
        advertising_id,
        device_type,
        os_name,
        app_version
{%- endmacro %}

{#- The checks every Segment row must pass. -#}
{% macro segment_reject_checks() -%}
    {{ return([
        ['event_id is null', 'missing_key'],
        ['anonymous_id is null and user_id is null', 'missing_identity'],
        ['occurred_at is null', 'missing_timestamp'],
    ]) }}
{%- endmacro %}
