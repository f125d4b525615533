{#- A customer_id per component, derived from the component's smallest identifier so a
    rebuild over the same data gives the same ids. (The persistent id mapping that survives
    merges and splits replaces this.) -#}

with components as (

    select * from {{ ref('int_identity__components') }}

),

identifiers as (

    select * from {{ ref('int_identity__identifiers') }}

),

component_keys as (

    select
        components.component_id,
        min(identifiers.identifier_type || ':' || identifiers.identifier_value) as smallest_identifier
    from components
    inner join identifiers
        on components.node_id = identifiers.node_id
    group by components.component_id

),

final as (

    select
        component_id,
        'cus_' || substr({{ dbt.hash('smallest_identifier') }}, 1, 20) as customer_id
    from component_keys

)

select * from final
