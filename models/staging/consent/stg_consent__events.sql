with base as (

    select * from {{ ref('base_consent__events') }}

),

final as (

    select
        event_id,
        subject_type,
        subject_value,
        purpose,
        status,
        status = 'granted' as is_granted,
        consent_source,
        occurred_at,
        _loaded_at
    from base
    where _reject_reason is null and _version_rank = 1

)

select * from final
