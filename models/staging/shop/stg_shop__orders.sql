with base as (

    select * from {{ ref('base_shop__orders') }}

),

final as (

    select
        order_id,
        order_number,
        email,
        email_key,
        shop_customer_id,
        user_id,
        phone,
        ordered_at,
        processed_at,
        cancelled_at,
        financial_status,
        currency,
        subtotal_price,
        total_tax,
        total_price,
        shipping_first_name,
        shipping_last_name,
        shipping_first_name_normalised,
        shipping_last_name_normalised,
        shipping_address_line,
        shipping_address_normalised,
        shipping_city,
        shipping_state,
        shipping_postcode,
        shipping_country_code,
        landing_site,
        click_id,
        utm_source,
        utm_medium,
        utm_campaign,
        source_name,
        _loaded_at
    from base
    where _reject_reason is null and _version_rank = 1

)

select * from final
