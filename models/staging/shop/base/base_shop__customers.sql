{%- set change_key = 'id' -%}
{{ config(change_key=change_key) }}

with source as (

    {{ cdp.changed_source_rows(source('shop', 'customers'), change_key) }}

),

typed as (

    select
        cast(id as {{ dbt.type_string() }}) as shop_customer_id,
        {{ cdp.clean_email('email') }} as email,
        {{ cdp.email_key('email') }} as email_key,
        {{ cdp.clean_text('first_name') }} as first_name,
        {{ cdp.clean_text('last_name') }} as last_name,
        {{ cdp.normalise_name('first_name') }} as first_name_normalised,
        {{ cdp.normalise_name('last_name') }} as last_name_normalised,
        {{ cdp.normalise_phone('phone') }} as phone,
        accepts_marketing,
        {{ cdp.clean_text('default_address_address1') }} as address_line,
        {{ cdp.normalise_address('default_address_address1') }} as address_normalised,
        {{ cdp.clean_text('default_address_city') }} as city,
        upper({{ cdp.clean_text('default_address_province_code') }}) as state,
        {{ cdp.normalise_postcode('default_address_zip') }} as postcode,
        upper({{ cdp.clean_text('default_address_country_code') }}) as country_code,
        {{ cdp.to_utc_timestamp('created_at') }} as created_at,
        {{ cdp.to_utc_timestamp('updated_at') }} as updated_at,
        {{ cdp.to_utc_timestamp('_fivetran_synced') }} as _loaded_at,
        {{ cdp.change_tracking_columns() }}
    from source

),

checked as (

    {{ cdp.check_rows('typed', key='shop_customer_id', latest_first=['updated_at', '_loaded_at'], checks=[
        ['shop_customer_id is null', 'missing_key'],
        ['created_at is null', 'missing_timestamp'],
    ]) }}

)

select * from checked
