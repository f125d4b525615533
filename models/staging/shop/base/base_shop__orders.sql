{%- set change_key = 'id' -%}
{{ config(change_key=change_key) }}

with source as (

    {{ cdp.changed_source_rows(source('shop', 'orders'), change_key) }}

),

typed as (

    select
        cast(id as {{ dbt.type_string() }}) as order_id,
        {{ cdp.clean_text('name') }} as order_number,
        {{ cdp.clean_email('email') }} as email,
        {{ cdp.email_key('email') }} as email_key,
        cast(customer_id as {{ dbt.type_string() }}) as shop_customer_id,
        {{ cdp.clean_identifier('user_id') }} as user_id,
        {{ cdp.normalise_phone('phone') }} as phone,
        {{ cdp.to_utc_timestamp('created_at') }} as ordered_at,
        {{ cdp.to_utc_timestamp('processed_at') }} as processed_at,
        {{ cdp.to_utc_timestamp('cancelled_at') }} as cancelled_at,
        lower({{ cdp.clean_text('financial_status') }}) as financial_status,
        upper({{ cdp.clean_text('currency') }}) as currency,
        cast(subtotal_price as {{ dbt.type_numeric() }}) as subtotal_price,
        cast(total_tax as {{ dbt.type_numeric() }}) as total_tax,
        cast(total_price as {{ dbt.type_numeric() }}) as total_price,
        {{ cdp.clean_text('shipping_address_first_name') }} as shipping_first_name,
        {{ cdp.clean_text('shipping_address_last_name') }} as shipping_last_name,
        {{ cdp.normalise_name('shipping_address_first_name') }} as shipping_first_name_normalised,
        {{ cdp.normalise_name('shipping_address_last_name') }} as shipping_last_name_normalised,
        {{ cdp.clean_text('shipping_address_address1') }} as shipping_address_line,
        {{ cdp.normalise_address('shipping_address_address1') }} as shipping_address_normalised,
        {{ cdp.clean_text('shipping_address_city') }} as shipping_city,
        upper({{ cdp.clean_text('shipping_address_province_code') }}) as shipping_state,
        {{ cdp.normalise_postcode('shipping_address_zip') }} as shipping_postcode,
        upper({{ cdp.clean_text('shipping_address_country_code') }}) as shipping_country_code,
        {{ cdp.clean_text('landing_site') }} as landing_site,
        {{ cdp.click_id_from_url('landing_site') }} as click_id,
        lower({{ cdp.url_parameter('landing_site', 'utm_source') }}) as utm_source,
        lower({{ cdp.url_parameter('landing_site', 'utm_medium') }}) as utm_medium,
        {{ cdp.url_parameter('landing_site', 'utm_campaign') }} as utm_campaign,
        lower({{ cdp.clean_text('source_name') }}) as source_name,
        {{ cdp.to_utc_timestamp('_fivetran_synced') }} as _loaded_at,
        {{ cdp.change_tracking_columns() }}
    from source

),

checked as (

    {{ cdp.check_rows('typed', key='order_id', latest_first='_loaded_at', checks=[
        ['order_id is null', 'missing_key'],
        ['ordered_at is null', 'missing_timestamp'],
        ['total_price is null or total_price < 0', 'invalid_amount'],
    ]) }}

)

select * from checked
