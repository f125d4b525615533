{{ config(
    materialized='incremental',
    full_refresh=false,
    post_hook=[
        "delete from {{ this }} where old_customer_id in (select customer_id from {{ ref('int_privacy__deleted_customers') }}) or new_customer_id in (select customer_id from {{ ref('int_privacy__deleted_customers') }})",
    ],
) }}

{#- Every merge and split of customer ids, one row per (old id, new id) per build, so that
    downstream systems holding an old id (the CRM sync among them) can follow it. A customer
    who asked to be deleted leaves this log too (customer_deletions lists them for the CRM).
      merge  the old id was retired: its identifiers now belong to the surviving id;
      split  some of the old id's identifiers left it for another customer. -#}

with resolution as (

    select * from {{ ref('int_identity__customer_id_resolution') }}

),

final as (

    select
        previous_customer_id as old_customer_id,
        customer_id as new_customer_id,
        case change_type when 'merged' then 'merge' else 'split' end as change_type,
        case change_type
            when 'merged' then 'clusters joined; the oldest id survives'
            else 'cluster divided; the part holding most identifiers keeps the id'
        end as reason,
        count(*) as identifiers_moved,
        min(resolved_at) as changed_at,
        '{{ invocation_id }}' as run_id
    from resolution
    where change_type in ('merged', 'split')
    group by previous_customer_id, customer_id, change_type

)

select * from final
