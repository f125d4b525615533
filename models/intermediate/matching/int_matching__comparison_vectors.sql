{{ config(materialized='versioned_table') }}

{#- Every candidate pair's comparison vector: one gamma per comparison (-1 null, 0 else,
    higher = stronger agreement), which blocking rules hold for it, and the compared values
    that term-frequency adjustment needs. -#}
{%- set comparisons = cdp.matching_comparisons() -%}
{%- set rules = cdp.matching_blocking_rules() -%}

with candidate_pairs as (

    select * from {{ ref('int_matching__candidate_pairs') }}

),

profiles as {{ cdp.inlined_cte() }} (

    select * from {{ ref('int_matching__profiles') }}

),

{%- if cdp.memoise_similarity() %}
pairs as (

    select
        candidate_pairs.profile_id_l,
        candidate_pairs.profile_id_r,
        candidate_pairs.blocking_rule,
        {{ cdp.pair_values(comparisons) }}
    from candidate_pairs
    inner join profiles as l
        on candidate_pairs.profile_id_l = l.profile_id
    inner join profiles as r
        on candidate_pairs.profile_id_r = r.profile_id

),

{{ cdp.similarity_ctes('pairs', comparisons) }}
{%- else %}

    pairs as (

        select * from candidate_pairs

    ),
{%- endif %}

final as (

    select
        pairs.profile_id_l,
        pairs.profile_id_r,
        pairs.blocking_rule,
        {%- for comparison in comparisons %}
            {{ cdp.comparison_gamma(comparison, cdp.memoise_similarity()) }} as gamma_{{ comparison.name }},
            {%- if comparison.tf %}
                l.{{ comparison.name }} as {{ comparison.name }}_l,
            {%- endif %}
        {%- endfor %}
        {%- for rule in rules %}
            {%- set conditions = [] %}
            {%- for key in rule %}{% do conditions.append('l.' ~ key ~ ' = r.' ~ key) %}{% endfor %}
            ({{ conditions | join(' and ') }}) as rule_{{ loop.index }}_holds{% if not loop.last %},{% endif %}
        {%- endfor %}
    from pairs
    inner join profiles as l
        on pairs.profile_id_l = l.profile_id
    inner join profiles as r
        on pairs.profile_id_r = r.profile_id
    {{- cdp.similarity_joins('pairs', comparisons) }}

)

select * from final
