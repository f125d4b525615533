{%- set change_key = 'conversion_id' -%}
{{ config(change_key=change_key) }}

with source as (

    {{ cdp.changed_source_rows(source('ads', 'ad_conversions'), change_key) }}

),

typed as (

    select
        conversion_id,
        lower({{ cdp.clean_text('platform') }}) as platform,
        {{ cdp.clean_identifier('click_id') }} as click_id,
        {{ cdp.clean_identifier('campaign_id') }} as campaign_id,
        lower({{ cdp.clean_text('conversion_action') }}) as conversion_action,
        {{ cdp.to_utc_timestamp('converted_at') }} as converted_at,
        cast(conversion_value as {{ dbt.type_numeric() }}) as conversion_value,
        upper({{ cdp.clean_text('currency') }}) as currency,
        lower({{ cdp.clean_identifier('hashed_email') }}) as hashed_email,
        {{ cdp.to_utc_timestamp('_fivetran_synced') }} as _loaded_at,
        {{ cdp.change_tracking_columns() }}
    from source

),

checked as (

    {{ cdp.check_rows('typed', key='conversion_id', latest_first='_loaded_at', checks=[
        ['conversion_id is null', 'missing_key'],
        ['converted_at is null', 'missing_timestamp'],
        ['conversion_value < 0', 'invalid_amount'],
    ]) }}

)

select * from checked
