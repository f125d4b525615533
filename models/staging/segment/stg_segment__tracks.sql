with base as (

    select * from {{ ref('base_segment__tracks') }}

),

final as (

    select
        {{ cdp.segment_common_column_names() }},
        event_name,
        event_text,
        product_id,
        product_category,
        order_id,
        revenue,
        click_id
    from base
    where _reject_reason is null and _version_rank = 1

)

select * from final
