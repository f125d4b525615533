with base as (

    select * from {{ ref('base_crm__contacts') }}

),

final as (

    select
        contact_id,
        first_name,
        last_name,
        first_name_normalised,
        last_name_normalised,
        email,
        email_key,
        phone,
        mobile_phone,
        address_line,
        address_normalised,
        city,
        state,
        postcode,
        country,
        birth_date,
        lifecycle_stage,
        lead_status,
        email_opt_out,
        company_id,
        created_at,
        updated_at,
        _loaded_at
    from base
    where _reject_reason is null and _version_rank = 1

)

select * from final
