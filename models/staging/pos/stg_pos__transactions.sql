with base as (

    select * from {{ ref('base_pos__transactions') }}

),

final as (

    select
        transaction_id,
        store_id,
        register_id,
        occurred_at,
        transaction_type,
        loyalty_id,
        card_token,
        payment_method,
        receipt_email,
        receipt_email_key,
        receipt_phone,
        item_count,
        total_amount,
        currency,
        _loaded_at
    from base
    where _reject_reason is null and _version_rank = 1

)

select * from final
