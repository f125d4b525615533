{{ config(materialized='versioned_table') }}

{#- How often each first and last name occurs among the profiles, for term-frequency
    adjustment of exact name agreements. -#}

with profiles as {{ cdp.inlined_cte() }} (

    select * from {{ ref('int_matching__profiles') }}

),

{%- set tf_columns = [] -%}
{%- for comparison in cdp.matching_comparisons() if comparison.tf -%}
    {%- do tf_columns.append(comparison.name) -%}
{%- endfor %}

values_seen as (

    {%- for column in tf_columns %}
    select
        '{{ column }}' as column_name,
        {{ column }} as value,
        count(*) as value_count
    from profiles
    where {{ column }} is not null
    group by {{ column }}
    {% if not loop.last %}union all{% endif %}
    {%- else %}
    {{ cdp.empty_select([['column_name', dbt.type_string()], ['value', dbt.type_string()],
                         ['value_count', dbt.type_bigint()]]) }}
    {%- endfor %}

),

final as (

    select
        column_name,
        value,
        value_count,
        cast(value_count as double precision)
            / sum(value_count) over (partition by column_name) as term_frequency
    from values_seen

)

select * from final
