with base as (

    select * from {{ ref('base_shop__order_lines') }}

),

final as (

    select
        order_line_id,
        order_id,
        product_id,
        sku,
        title,
        category,
        quantity,
        unit_price,
        quantity * unit_price as line_amount,
        _loaded_at
    from base
    where _reject_reason is null and _version_rank = 1

)

select * from final
