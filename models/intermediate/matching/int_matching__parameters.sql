{{ config(materialized='versioned_table') }}

-- depends_on: {{ ref('int_matching__comparison_patterns') }}
-- depends_on: {{ ref('int_matching__profiles') }}
{# The trained Fellegi-Sunter model: per comparison level its m and u probabilities and
    its match weight log2(m / u); one `prior` row holds lambda, the probability that two
    random profiles match, whose log-odds start every pair's match weight. #}
{% set comparisons = cdp.matching_comparisons() -%}
{%- set rules = cdp.matching_blocking_rules() -%}

with u_probabilities as (

    select * from {{ ref('int_matching__u_probabilities') }}

),

m_probabilities as (

    {%- if execute %}
    {%- set profile_count = run_query('select count(*) from ' ~ ref('int_matching__profiles')).columns[0].values()[0] %}
    {%- set estimates = cdp.fellegi_sunter_estimates(
        ref('int_matching__comparison_patterns'), ref('int_matching__u_probabilities'), comparisons, rules,
        profile_count | int) %}
    select * from (values
        {%- for comparison in comparisons %}
        {%- set comparison_loop = loop %}
        {%- for gamma, m in estimates.m[comparison.name].items() %}
        ('{{ comparison.name }}', {{ gamma }}, {{ m }}, '{{ estimates.trained_by[comparison.name] | join(",") }}'),
        {%- endfor %}
        {%- endfor %}
        ('prior', -1, {{ estimates['lambda'] }}, '')
    ) as estimated (comparison_name, gamma, m_probability, trained_by_rules)
    {%- else %}
    {{ cdp.empty_select([['comparison_name', dbt.type_string()], ['gamma', dbt.type_int()],
                         ['m_probability', "double precision"], ['trained_by_rules', dbt.type_string()]]) }}
    {%- endif %}

),

levels as (

    select
        m_probabilities.comparison_name,
        m_probabilities.gamma,
        u_probabilities.level_label,
        cast(m_probabilities.m_probability as double precision) as m_probability,
        u_probabilities.u_probability,
        m_probabilities.trained_by_rules
    from m_probabilities
    inner join u_probabilities
        on m_probabilities.comparison_name = u_probabilities.comparison_name
        and m_probabilities.gamma = u_probabilities.gamma

),

prior as (

    select
        comparison_name,
        gamma,
        'prior' as level_label,
        cast(m_probability as double precision) as m_probability,
        cast(1 - m_probability as double precision) as u_probability,
        trained_by_rules
    from m_probabilities
    where comparison_name = 'prior'

),

final as (

    select
        *,
        ln(m_probability / u_probability) / ln(2) as match_weight
    from levels

    union all

    select
        *,
        ln(m_probability / u_probability) / ln(2) as match_weight
    from prior

)

select * from final
