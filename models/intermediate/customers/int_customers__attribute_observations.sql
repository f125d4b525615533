{#- Every observation of a person attribute (name, sendable email, phone) with its customer.
    An email or phone counts only when it belongs to that customer in the identity graph
    (a blocked or shared value, or one the guards gave to another customer, is nulled). -#}
{%- set entries = cdp.enabled_entries(cdp.person_attribute_sources()) -%}

with records_resolved as (

    select * from {{ ref('int_identity__records_resolved') }}

),

customer_identifiers as (

    select * from {{ ref('int_identity__customer_ids') }}

),

{{ cdp.import_ctes(entries | map(attribute='model')) }}

observations as (

    {%- for entry in entries %}

    select
        '{{ entry.source_table }}' as source_table,
        cast({{ entry.record_id }} as {{ dbt.type_string() }}) as record_id,
        {{ entry.observed_at }} as observed_at,
        cast({{ entry.first_name }} as {{ dbt.type_string() }}) as first_name,
        cast({{ entry.last_name }} as {{ dbt.type_string() }}) as last_name,
        cast({{ entry.email }} as {{ dbt.type_string() }}) as email,
        cast({{ entry.email_key }} as {{ dbt.type_string() }}) as email_key,
        cast({{ entry.phone }} as {{ dbt.type_string() }}) as phone
    from {{ entry.model }}
    {% if not loop.last %}union all{% endif %}
    {%- else %}

    {{ cdp.empty_select([
        ['source_table', dbt.type_string()],
        ['record_id', dbt.type_string()],
        ['observed_at', dbt.type_timestamp()],
        ['first_name', dbt.type_string()],
        ['last_name', dbt.type_string()],
        ['email', dbt.type_string()],
        ['email_key', dbt.type_string()],
        ['phone', dbt.type_string()],
    ]) }}
    {%- endfor %}

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
