with base as (

    select * from {{ ref('base_support__tickets') }}

),

final as (

    select
        ticket_id,
        requester_id,
        requester_email,
        requester_email_key,
        requester_phone,
        requester_name,
        requester_first_name_normalised,
        requester_last_name_normalised,
        subject,
        channel,
        status,
        status in ('solved', 'closed') as is_solved,
        priority,
        satisfaction_rating,
        created_at,
        updated_at,
        solved_at,
        _loaded_at
    from base
    where _reject_reason is null and _version_rank = 1

)

select * from final
