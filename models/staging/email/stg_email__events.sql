with base as (

    select * from {{ ref('base_email__events') }}

),

final as (

    select
        event_id,
        event_type,
        email,
        email_key,
        campaign_id,
        campaign_name,
        occurred_at,
        url,
        {{ cdp.url_parameter('url', 'utm_campaign') }} as utm_campaign,
        bounce_reason,
        user_agent,
        _loaded_at
    from base
    where _reject_reason is null and _version_rank = 1

)

select * from final
