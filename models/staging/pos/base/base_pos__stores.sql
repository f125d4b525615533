{%- set change_key = 'store_id' -%}
{{ config(change_key=change_key) }}

with source as (

    {{ cdp.changed_source_rows(source('pos', 'stores'), change_key) }}

),

typed as (

    select
        store_id,
        {{ cdp.clean_text('store_name') }} as store_name,
        {{ cdp.clean_text('city') }} as city,
        upper({{ cdp.clean_text('state') }}) as state,
        {{ cdp.normalise_postcode('postcode') }} as postcode,
        {{ cdp.parse_date('opened_on') }} as opened_on,
        {{ cdp.to_utc_timestamp('_loaded_at') }} as _loaded_at,
        {{ cdp.change_tracking_columns() }}
    from source

),

checked as (

    {{ cdp.check_rows('typed', key='store_id', latest_first='_loaded_at', checks=[
        ['store_id is null', 'missing_key'],
    ]) }}

)

select * from checked
