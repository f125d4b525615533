{{ config(materialized='versioned_table') }}

{#- Candidate pairs: profiles equal on every key of at least one blocking rule (var
    matching_blocking_rules), each pair once, with the first rule that found it. Blocks
    larger than var matching_max_block_size are skipped. -#}
{%- set rules = cdp.matching_blocking_rules() -%}

with profiles as {{ cdp.inlined_cte() }} (

    select * from {{ ref('int_matching__profiles') }}

),

{% for rule in rules -%}
{%- set rule_index = loop.index %}
rule_{{ rule_index }}_blocks as (

    select
        {{ rule | join(', ') }}
    from profiles
    where {% for key in rule %}{{ key }} is not null{% if not loop.last %} and {% endif %}{% endfor %}
    group by {{ rule | join(', ') }}
    having count(*) between 2 and {{ var('matching_max_block_size') }}

),

rule_{{ rule_index }}_pairs as (

    select
        l.profile_id as profile_id_l,
        r.profile_id as profile_id_r,
        {{ rule_index }} as blocking_rule
    from rule_{{ rule_index }}_blocks as blocks
    inner join profiles as l
        on {% for key in rule %}blocks.{{ key }} = l.{{ key }}{% if not loop.last %} and {% endif %}{% endfor %}
    inner join profiles as r
        on {% for key in rule %}blocks.{{ key }} = r.{{ key }}{% if not loop.last %} and {% endif %}{% endfor %}
    where l.profile_id < r.profile_id

),

{% endfor -%}

unioned as (

    {%- for rule in rules %}
    select * from rule_{{ loop.index }}_pairs
    {% if not loop.last %}union all{% endif %}
    {%- else %}
    {{ cdp.empty_select([['profile_id_l', dbt.type_bigint()], ['profile_id_r', dbt.type_bigint()],
                         ['blocking_rule', dbt.type_int()]]) }}
    {%- endfor %}

),

final as (

    select
        profile_id_l,
        profile_id_r,
        min(blocking_rule) as blocking_rule
    from unioned
    group by profile_id_l, profile_id_r

)

select * from final
