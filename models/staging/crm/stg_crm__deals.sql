with base as (

    select * from {{ ref('base_crm__deals') }}

),

final as (

    select
        deal_id,
        deal_name,
        amount,
        deal_stage,
        pipeline,
        close_at,
        created_at,
        contact_id,
        company_id,
        _loaded_at
    from base
    where _reject_reason is null and _version_rank = 1

)

select * from final
