with base as (

    select * from {{ ref('base_ads__spend') }}

),

final as (

    select
        spend_key,
        date_day,
        platform,
        campaign_id,
        campaign_name,
        impressions,
        clicks,
        spend,
        currency,
        _loaded_at
    from base
    where _reject_reason is null and _version_rank = 1

)

select * from final
