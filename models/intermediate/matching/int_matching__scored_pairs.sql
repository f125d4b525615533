{{ config(materialized='versioned_table') }}

-- depends_on: {{ ref('int_matching__parameters') }}
{# Every candidate pair scored: the partial match weight of each comparison (log2 m/u of its
    level; for exact name agreement log2 of m over the name's frequency), the match weight
    (prior log-odds plus the partial weights) and the match probability. Pairs below var
    matching_floor_weight are not kept. The partial weights explain every merge. -#}
{% set comparisons = cdp.matching_comparisons() -%}

{%- if execute %}
    {%- set weights = {} -%}
    {%- set m_exact = {} -%}
    {%- set prior = namespace(weight=0.0) -%}
    {%- for row in run_query('select comparison_name, gamma, match_weight, m_probability from '
                             ~ ref('int_matching__parameters')).rows -%}
        {%- if row[0] == 'prior' -%}
            {%- set prior.weight = row[2] | float -%}
        {%- else -%}
            {%- if row[0] not in weights -%}{%- do weights.update({row[0]: {}}) -%}{%- endif -%}
            {%- do weights[row[0]].update({row[1] | int: row[2] | float}) -%}
            {%- do m_exact.update({row[0] ~ ':' ~ (row[1] | int): row[3] | float}) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endif %}

with comparison_vectors as (

    select * from {{ ref('int_matching__comparison_vectors') }}

),

term_frequencies as (

    select * from {{ ref('int_matching__term_frequencies') }}

),

weighted as (

    select
        comparison_vectors.profile_id_l,
        comparison_vectors.profile_id_r,
        comparison_vectors.blocking_rule,
        {%- for comparison in comparisons %}
        {%- set top = comparison.levels | length %}
        comparison_vectors.gamma_{{ comparison.name }},
        case
            {%- if comparison.tf and execute %}
            when comparison_vectors.gamma_{{ comparison.name }} = {{ top }}
                and tf_{{ comparison.name }}.term_frequency is not null
                then (ln({{ m_exact[comparison.name ~ ':' ~ top] }}) - ln(tf_{{ comparison.name }}.term_frequency))
                    / ln(2)
            {%- endif %}
            {%- if execute %}
            {%- for gamma, weight in weights[comparison.name].items() %}
            when comparison_vectors.gamma_{{ comparison.name }} = {{ gamma }} then {{ weight }}
            {%- endfor %}
            {%- endif %}
            else 0
        end as weight_{{ comparison.name }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from comparison_vectors
    {%- for comparison in comparisons if comparison.tf %}
    left join term_frequencies as tf_{{ comparison.name }}
        on tf_{{ comparison.name }}.column_name = '{{ comparison.name }}'
        and comparison_vectors.{{ comparison.name }}_l = tf_{{ comparison.name }}.value
    {%- endfor %}

),

summed as (

    select
        *,
        {{ prior.weight if execute else 0 }}
        {%- for comparison in comparisons %} + weight_{{ comparison.name }}{% endfor %} as match_weight
    from weighted

),

final as (

    select
        *,
        power(2, match_weight) / (1 + power(2, match_weight)) as match_probability
    from summed
    where match_weight >= {{ var('matching_floor_weight') }}

)

select * from final
