{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['identifier_type', 'identifier_value'],
    full_refresh=false,
    post_hook="{{ cdp.save_identity_state('customer_id_map') }}",
) }}

{#- The persistent identifier -> customer_id map. Incremental and never rebuilt by
    --full-refresh: it is the memory that keeps customer ids stable across builds.
    Identifiers that disappear from the data keep their last row. Its state says which build
    of int_identity__customer_id_resolution it applied last (that model decides again only
    the changed clusters while the map is current). -#}

with resolution as (

    select * from {{ ref('int_identity__customer_id_resolution') }}

),

final as (

    select
        identifier_type,
        identifier_value,
        customer_id,
        customer_created_at,
        customer_first_seen_at,
        resolved_at as updated_at
    from resolution
    {%- if is_incremental() %}
    where change_type <> 'kept'
    {%- endif %}

)

select * from final
