with base as (

    select * from {{ ref('base_segment__screens') }}

),

final as (

    select
        {{ cdp.segment_common_column_names() }},
        screen_name
    from base
    where _reject_reason is null and _version_rank = 1

)

select * from final
