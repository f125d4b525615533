with base as (

    select * from {{ ref('base_segment__pages') }}

),

final as (

    select
        {{ cdp.segment_common_column_names() }},
        page_name,
        page_path,
        page_title,
        page_url,
        page_referrer,
        page_search,
        click_id
    from base
    where _reject_reason is null and _version_rank = 1

)

select * from final
