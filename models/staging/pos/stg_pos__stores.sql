with base as (

    select * from {{ ref('base_pos__stores') }}

),

final as (

    select
        store_id,
        store_name,
        city,
        state,
        postcode,
        opened_on,
        _loaded_at
    from base
    where _reject_reason is null and _version_rank = 1

)

select * from final
