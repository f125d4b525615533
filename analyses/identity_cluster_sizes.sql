-- How many identifiers each resolved customer holds, by size band: a long tail of very
-- large customers points at a shared value the blocklist or the shared-value rule missed.
with components as (

    select * from {{ ref('int_identity__components') }}

),

sizes as (

    select
        component_id,
        count(*) as identifier_count
    from components
    group by component_id

),

banded as (

    select
        case
            when identifier_count = 1 then '1'
            when identifier_count <= 3 then '2-3'
            when identifier_count <= 10 then '4-10'
            when identifier_count <= 50 then '11-50'
            else '51+'
        end as size_band,
        identifier_count
    from sizes

),

final as (

    select
        size_band,
        count(*) as customers,
        sum(identifier_count) as identifiers,
        max(identifier_count) as largest
    from banded
    group by size_band

)

select * from final
order by largest
