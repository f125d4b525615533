{#- One row per day for MetricFlow's time-based joins and grains (the semantic layer's time
    spine, configured in _semantic__models.yml). Built with dbt's cross-database date_spine so
    it runs on every warehouse; the range covers every event the marts hold and then some. -#}

with days as (

    {{ dbt.date_spine(
        datepart='day',
        start_date="cast('2000-01-01' as date)",
        end_date="cast('2041-01-01' as date)"
    ) }}

),

final as (

    select cast(date_day as date) as date_day
    from days

)

select * from final
