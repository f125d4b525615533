{{ config(materialized='versioned_table') }}

{#- The comparison vectors aggregated: one row per distinct vector and set of blocking rules
    that hold, with its pair count. The small table EM trains on. -#}
{%- set comparisons = cdp.matching_comparisons() -%}
{%- set rules = cdp.matching_blocking_rules() -%}
{%- set group_columns = [] -%}
{%- for comparison in comparisons -%}{%- do group_columns.append('gamma_' ~ comparison.name) -%}{%- endfor -%}
{%- for rule in rules -%}{%- do group_columns.append('rule_' ~ loop.index ~ '_holds') -%}{%- endfor %}

with comparison_vectors as (

    select * from {{ ref('int_matching__comparison_vectors') }}

),

final as (

    select
        {{ group_columns | join(',\n        ') }},
        count(*) as pair_count
    from comparison_vectors
    group by {{ group_columns | join(', ') }}

)

select * from final
