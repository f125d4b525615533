with base as (

    select * from {{ ref('base_pos__transaction_lines') }}

),

final as (

    select
        transaction_line_id,
        transaction_id,
        line_number,
        sku,
        product_id,
        category,
        quantity,
        unit_price,
        quantity * unit_price as line_amount,
        _loaded_at
    from base
    where _reject_reason is null and _version_rank = 1

)

select * from final
