{%- set change_key = 'click_id' -%}
{{ config(change_key=change_key) }}

with source as (

    {{ cdp.changed_source_rows(source('ads', 'ad_clicks'), change_key) }}

),

typed as (

    select
        click_id,
        lower({{ cdp.clean_text('platform') }}) as platform,
        {{ cdp.clean_identifier('campaign_id') }} as campaign_id,
        {{ cdp.clean_identifier('ad_group_id') }} as ad_group_id,
        {{ cdp.to_utc_timestamp('clicked_at') }} as clicked_at,
        {{ cdp.clean_text('landing_page_url') }} as landing_page_url,
        lower({{ cdp.clean_text('device_type') }}) as device_type,
        {{ cdp.to_utc_timestamp('_fivetran_synced') }} as _loaded_at,
        {{ cdp.change_tracking_columns() }}
    from source

),

checked as (

    {{ cdp.check_rows('typed', key='click_id', latest_first='_loaded_at', checks=[
        ['click_id is null', 'missing_key'],
        ['clicked_at is null', 'missing_timestamp'],
    ]) }}

)

select * from checked
