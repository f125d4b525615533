{#- One row per distinct identifier (a node of the identity graph), with the evidence that
    decides whether it may link records:
      blocklist            a placeholder value from seeds/identity_blocklist.csv;
      shared_across_<type> seen on records holding several values of a type limited to one
                           (var identity_type_limits): a store kiosk, a family tablet;
      too_many_people /    an email or phone written under many surnames, or under first
      shared_by_people     names too different to be one person (int_matching__shared_values);
      household_email      a family inbox by its spelling (smithfamily@). -#}
{%- set single_types = [] -%}
{%- for identifier_type, limit in var('identity_type_limits').items() if limit | int == 1 -%}
    {%- do single_types.append(identifier_type) -%}
{%- endfor %}

with record_identifiers as (

    select * from {{ ref('int_identity__record_identifiers') }}

),

blocklist as (

    select * from {{ ref('identity_blocklist') }}

),

shared_values as (

    select * from {{ ref('int_matching__shared_values') }}
    where block_reason <> 'blocklist'

),

identifier_stats as (

    select
        identifier_type,
        identifier_value,
        min(observed_at) as first_seen_at,
        max(observed_at) as last_seen_at,
        count(*) as record_count,
        count(distinct source_table) as source_count
    from record_identifiers
    group by identifier_type, identifier_value

),
{%- for single_type in single_types %}

    {{ single_type }}_records as (

        select
            source_table,
            record_id,
            identifier_value as {{ single_type }}
        from record_identifiers
        where identifier_type = '{{ single_type }}'

    ),

    linked_{{ single_type }}s as (

        select
            record_identifiers.identifier_type,
            record_identifiers.identifier_value,
            count(distinct {{ single_type }}_records.{{ single_type }}) as linked_count
        from record_identifiers
        inner join {{ single_type }}_records
            on record_identifiers.source_table = {{ single_type }}_records.source_table
            and record_identifiers.record_id = {{ single_type }}_records.record_id
        where record_identifiers.identifier_type <> '{{ single_type }}'
        group by record_identifiers.identifier_type, record_identifiers.identifier_value

    ),
{%- endfor %}

final as (

    select
        cast(dense_rank() over (
            order by identifier_stats.identifier_type, identifier_stats.identifier_value
        ) as {{ dbt.type_bigint() }}) as node_id,
        identifier_stats.identifier_type,
        identifier_stats.identifier_value,
        {{ cdp.identifier_priority('identifier_stats.identifier_type') }} as type_priority,
        identifier_stats.first_seen_at,
        identifier_stats.last_seen_at,
        identifier_stats.record_count,
        identifier_stats.source_count,
        {%- for single_type in single_types %}
            coalesce(linked_{{ single_type }}s.linked_count, 0) as linked_{{ single_type }}_count,
        {%- endfor %}
        case
            when blocklist.identifier_value is not null then 'blocklist'
            {%- for single_type in single_types %}
                when linked_{{ single_type }}s.linked_count > 1 then 'shared_across_{{ single_type }}'
            {%- endfor %}
            when shared_values.block_reason is not null then shared_values.block_reason
        end as block_reason
    from identifier_stats
    {%- for single_type in single_types %}
    left join linked_{{ single_type }}s
        on identifier_stats.identifier_type = linked_{{ single_type }}s.identifier_type
        and identifier_stats.identifier_value = linked_{{ single_type }}s.identifier_value
    {%- endfor %}
    left join blocklist
        on identifier_stats.identifier_type = blocklist.identifier_type
        and identifier_stats.identifier_value = blocklist.identifier_value
    left join shared_values
        on identifier_stats.identifier_type = shared_values.identifier_type
        and identifier_stats.identifier_value = shared_values.identifier_value

)

select
    *,
    block_reason is not null as is_blocked
from final
