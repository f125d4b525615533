{{ config(materialized='versioned_table') }}

{#- u-probabilities: how often each comparison level occurs among random pairs, which are
    almost all non-matches. All pairs among var matching_u_sample_records profiles drawn in
    a fixed pseudo-random order (so a rebuild gives the same numbers). Every level gets at
    least one pseudo-count so no weight is infinite. -#}
{%- set comparisons = cdp.matching_comparisons() -%}

with profiles as (

    select * from {{ ref('int_matching__profiles') }}

),

sample as {{ cdp.materialized_cte() }} (

    select *
    from profiles
    order by {{ dbt.hash('profile_key') }}
    limit {{ var('matching_u_sample_records') }}

),

pairs as (

    select
        l.profile_id as profile_id_l,
        r.profile_id as profile_id_r{% if cdp.memoise_similarity() %},
            {{ cdp.pair_values(comparisons) }}
        {%- endif %}
    from sample as l
    inner join sample as r
        on l.profile_id < r.profile_id

),

{{ cdp.similarity_ctes('pairs', comparisons) }}

sample_pairs as (

    select
        {%- for comparison in comparisons %}
            {{ cdp.comparison_gamma(comparison, cdp.memoise_similarity()) }} as gamma_{{ comparison.name }}
            {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from pairs
    inner join sample as l
        on pairs.profile_id_l = l.profile_id
    inner join sample as r
        on pairs.profile_id_r = r.profile_id
    {{- cdp.similarity_joins('pairs', comparisons) }}

),

levels as (

    {%- for comparison in comparisons %}
        {%- set comparison_loop = loop %}
        {%- for gamma in range(0, comparison.levels | length + 1) %}
            select
                '{{ comparison.name }}' as comparison_name,
                {{ gamma }} as gamma,
                '{{ (["else"] + (comparison.levels | map(attribute=0) | reverse | list))[gamma] }}' as level_label
            {% if not (loop.last and comparison_loop.last) %}union all{% endif %}
        {%- endfor %}
    {%- endfor %}

),

counted as (

    {%- for comparison in comparisons %}
        select
            '{{ comparison.name }}' as comparison_name,
            gamma_{{ comparison.name }} as gamma,
            count(*) as pair_count
        from sample_pairs
        where gamma_{{ comparison.name }} >= 0
        group by gamma_{{ comparison.name }}
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

final as (

    select
        levels.comparison_name,
        levels.gamma,
        levels.level_label,
        coalesce(counted.pair_count, 0) as pair_count,
        cast(coalesce(counted.pair_count, 0) + 1 as double precision)
        / sum(coalesce(counted.pair_count, 0) + 1) over (partition by levels.comparison_name) as u_probability
    from levels
    left join counted
        on levels.comparison_name = counted.comparison_name
        and levels.gamma = counted.gamma

)

select * from final
