with base as (

    select * from {{ ref('base_ads__conversions') }}

),

final as (

    select
        conversion_id,
        platform,
        click_id,
        campaign_id,
        conversion_action,
        converted_at,
        conversion_value,
        currency,
        hashed_email,
        _loaded_at
    from base
    where _reject_reason is null and _version_rank = 1

)

select * from final
