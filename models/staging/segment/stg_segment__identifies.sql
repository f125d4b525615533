with base as (

    select * from {{ ref('base_segment__identifies') }}

),

final as (

    select
        {{ cdp.segment_common_column_names() }},
        email,
        email_key,
        first_name,
        last_name,
        phone
    from base
    where _reject_reason is null and _version_rank = 1

)

select * from final
