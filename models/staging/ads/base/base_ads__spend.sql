{%- set change_key = "cast(date_day as " ~ dbt.type_string() ~ ") || '|' || platform || '|' || campaign_id" -%}
{{ config(change_key=change_key) }}

with source as (

    {{ cdp.changed_source_rows(source('ads', 'ad_spend'), change_key) }}

),

typed as (

    select
        cast(date_day as {{ dbt.type_string() }}) || '|' || platform || '|' || campaign_id as spend_key,
        cast(date_day as date) as date_day,
        lower({{ cdp.clean_text('platform') }}) as platform,
        {{ cdp.clean_identifier('campaign_id') }} as campaign_id,
        {{ cdp.clean_text('campaign_name') }} as campaign_name,
        cast(impressions as {{ dbt.type_bigint() }}) as impressions,
        cast(clicks as {{ dbt.type_bigint() }}) as clicks,
        cast(spend as {{ dbt.type_numeric() }}) as spend,
        upper({{ cdp.clean_text('currency') }}) as currency,
        {{ cdp.to_utc_timestamp('_fivetran_synced') }} as _loaded_at,
        {{ cdp.change_tracking_columns() }}
    from source

),

checked as (

    {{ cdp.check_rows('typed', key='spend_key', latest_first='_loaded_at', checks=[
        ['spend_key is null', 'missing_key'],
        ['spend < 0 or impressions < 0 or clicks < 0', 'invalid_amount'],
    ]) }}

)

select * from checked
