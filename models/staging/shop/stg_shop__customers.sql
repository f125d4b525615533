with base as (

    select * from {{ ref('base_shop__customers') }}

),

final as (

    select
        shop_customer_id,
        email,
        email_key,
        first_name,
        last_name,
        first_name_normalised,
        last_name_normalised,
        phone,
        accepts_marketing,
        address_line,
        address_normalised,
        city,
        state,
        postcode,
        country_code,
        created_at,
        updated_at,
        _loaded_at
    from base
    where _reject_reason is null and _version_rank = 1

)

select * from final
