{#- Customers who asked to be forgotten: every customer a deletion request (in a state of var
    privacy_deletion_statuses) resolves to, through the identifiers the request names. Marts
    leave them out; customer_deletions lists them for the CRM sync. -#}
{%- set statuses = var('privacy_deletion_statuses') -%}
{%- set request_models = ['stg_consent__deletion_requests'] if var('consent_enabled', true) else [] -%}

with records_resolved as (

    select * from {{ ref('int_identity__records_resolved') }}

),

{{ cdp.import_ctes(request_models) }}

deletion_requests as (

    {%- for model in request_models %}
        select
            cast(request_id as {{ dbt.type_string() }}) as request_id,
            requested_at
        from {{ model }}
        where status in ({{ cdp.sql_string_list(statuses) }})
    {%- else %}
        {{ cdp.empty_select([['request_id', dbt.type_string()], ['requested_at', dbt.type_timestamp()]]) }}
    {%- endfor %}

),

final as (

    select
        records_resolved.customer_id,
        min(deletion_requests.requested_at) as first_requested_at,
        max(deletion_requests.requested_at) as deletion_requested_at,
        count(*) as request_count
    from deletion_requests
    inner join records_resolved
        on records_resolved.source_table = 'consent.deletion_requests'
        and deletion_requests.request_id = records_resolved.record_id
    group by records_resolved.customer_id

)

select * from final
