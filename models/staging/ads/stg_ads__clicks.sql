with base as (

    select * from {{ ref('base_ads__clicks') }}

),

final as (

    select
        click_id,
        platform,
        campaign_id,
        ad_group_id,
        clicked_at,
        landing_page_url,
        device_type,
        _loaded_at
    from base
    where _reject_reason is null and _version_rank = 1

)

select * from final
