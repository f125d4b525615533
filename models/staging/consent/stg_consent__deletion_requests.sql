with base as (

    select * from {{ ref('base_consent__deletion_requests') }}

),

final as (

    select
        request_id,
        email,
        email_key,
        phone,
        user_id,
        requested_at,
        status,
        _loaded_at
    from base
    where _reject_reason is null and _version_rank = 1

)

select * from final
