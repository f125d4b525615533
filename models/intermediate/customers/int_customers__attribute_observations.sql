{#- Every observation of a person attribute (name, sendable email, phone) with its customer.
    An email or phone counts only when it belongs to that customer in the identity graph
    (a blocked or shared value, or one the guards gave to another customer, is nulled). -#}
{%- set entries = cdp.enabled_entries(cdp.person_attribute_sources()) -%}

with records_resolved as (

    select * from {{ ref('int_identity__records_resolved') }}

),

customer_identifiers as {{ cdp.inlined_cte() }} (

    select * from {{ ref('int_identity__customer_ids') }}

),

{{ cdp.import_ctes(entries | map(attribute='model')) }}

observations as (

    {{ cdp.union_entries(entries, [
        ['observed_at', dbt.type_timestamp()],
        ['first_name', dbt.type_string()],
        ['last_name', dbt.type_string()],
        ['email', dbt.type_string()],
        ['email_key', dbt.type_string()],
        ['phone', dbt.type_string()],
    ]) }}

),

final as (

    select
        records_resolved.customer_id,
        observations.source_table,
        observations.record_id,
        observations.observed_at,
        observations.first_name,
        observations.last_name,
        case when customer_emails.node_id is not null then observations.email end as email,
        case when customer_phones.node_id is not null then observations.phone end as phone
    from observations
    inner join records_resolved
        on observations.source_table = records_resolved.source_table
        and observations.record_id = records_resolved.record_id
    left join customer_identifiers as customer_emails
        on customer_emails.identifier_type = 'email'
        and observations.email_key = customer_emails.identifier_value
        and records_resolved.customer_id = customer_emails.customer_id
    left join customer_identifiers as customer_phones
        on customer_phones.identifier_type = 'phone'
        and observations.phone = customer_phones.identifier_value
        and records_resolved.customer_id = customer_phones.customer_id

)

select * from final
