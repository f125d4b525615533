with base as (

    select * from {{ ref('base_crm__companies') }}

),

final as (

    select
        company_id,
        company_name,
        website_domain,
        industry,
        city,
        country,
        created_at,
        updated_at,
        _loaded_at
    from base
    where _reject_reason is null and _version_rank = 1

)

select * from final
