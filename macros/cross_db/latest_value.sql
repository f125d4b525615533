{#- The latest non-null value of column per partition key, ordering by the given columns
    descending (ties broken by the later columns, so the choice is deterministic). -#}
{% macro latest_value(relation, partition_by, column, latest_first) -%}
    select
        {{ partition_by }},
        {{ column }}
    from (
        select
            {{ partition_by }},
            {{ column }},
            row_number() over (
                partition by {{ partition_by }}
                order by {% for term in latest_first %}{{ term }} desc nulls last{% if not loop.last %}, {% endif %}{% endfor %}
            ) as recency_rank
        from {{ relation }}
        where {{ column }} is not null
    ) as ranked
    where recency_rank = 1
{%- endmacro %}
