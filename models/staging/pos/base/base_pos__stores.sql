with source as (

    select * from {{ source('pos', 'stores') }}

),

typed as (

    select
        store_id,
        {{ cdp.clean_text('store_name') }} as store_name,
        {{ cdp.clean_text('city') }} as city,
        upper({{ cdp.clean_text('state') }}) as state,
        {{ cdp.normalise_postcode('postcode') }} as postcode,
        {{ cdp.parse_date('opened_on') }} as opened_on,
        {{ cdp.to_utc_timestamp('_loaded_at') }} as _loaded_at
    from source

),

checked as (

    {{ cdp.check_rows('typed', key='store_id', latest_first='_loaded_at', checks=[
        ['store_id is null', 'missing_key'],
    ]) }}

)

select * from checked
