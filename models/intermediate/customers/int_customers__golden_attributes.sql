{#- The golden value of each person attribute per customer, one row per customer and
    attribute, chosen among the values the customer's records carry by the rule
    seeds/survivorship_rules.csv sets for the attribute (source_priority, most_frequent or
    most_recent; most_recent without a rule). Ties go to the value seen last, then the
    alphabetically first. -#}

with attribute_observations as {{ cdp.inlined_cte() }} (

    select * from {{ ref('int_customers__attribute_observations') }}

),

rules as (

    select * from {{ ref('survivorship_rules') }}

),

observations as (

    {%- for attribute in ['first_name', 'last_name', 'email', 'phone'] %}
        select
            customer_id,
            '{{ attribute }}' as attribute_name,
            {{ attribute }} as attribute_value,
            split_part(source_table, '.', 1) as source_name,
            observed_at
        from attribute_observations
        where {{ attribute }} is not null
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

value_stats as (

    select
        observations.customer_id,
        observations.attribute_name,
        observations.attribute_value,
        coalesce(max(rules.rule), 'most_recent') as survivorship_rule,
        count(*) as times_seen,
        max(observations.observed_at) as last_seen_at,
        min(nullif(strpos(' ' || rules.source_priority || ' ', ' ' || observations.source_name || ' '), 0))
            as source_position
    from observations
    left join rules
        on observations.attribute_name = rules.attribute
    group by observations.customer_id, observations.attribute_name, observations.attribute_value

),

ranked as (

    select
        value_stats.*,
        row_number() over (
            partition by value_stats.customer_id, value_stats.attribute_name
            order by
                case
                    when value_stats.survivorship_rule = 'source_priority'
                        then coalesce(value_stats.source_position, 1000000)
                end asc nulls last,
                case
                    when value_stats.survivorship_rule = 'most_frequent' then value_stats.times_seen
                end desc nulls last,
                value_stats.last_seen_at desc nulls last,
                value_stats.attribute_value asc
        ) as value_rank
    from value_stats

),

final as (

    select
        customer_id,
        attribute_name,
        attribute_value,
        survivorship_rule,
        times_seen,
        last_seen_at
    from ranked
    where value_rank = 1

)

select * from final
