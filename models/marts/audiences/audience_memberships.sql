{#- Who is in which audience (var audiences), and since when: one row per stay of a customer
    in an audience, entered_at when the customer first met the audience's condition (with the
    consent its purpose needs), exited_at when they stopped (null while still in). Each run
    closes the stays of customers who left and opens stays for those who entered; history is
    kept across runs and full refreshes. Customers who asked to be deleted are removed, past
    stays included. -#}
{{ config(
    materialized='incremental',
    unique_key=['audience_name', 'customer_id', 'entered_at'],
    incremental_strategy='delete+insert',
    full_refresh=false,
    post_hook="delete from {{ this }} where customer_id in (select customer_id from {{ ref('int_privacy__deleted_customers') }})"
) }}
{%- set audiences = cdp.audience_definitions() -%}
{%- set run_at = cdp.utc_moment(var('audiences_run_at') or run_started_at.strftime('%Y-%m-%d %H:%M:%S'),
                                'dbt_project.yml vars: audiences_run_at') -%}

with features as (

    select * from {{ ref('customer_features') }}

),

consent as (

    select * from {{ ref('customer_consent') }}

),

deleted_customers as (

    select * from {{ ref('int_privacy__deleted_customers') }}

),

current_members as (

    {%- for audience in audiences %}
        select
            '{{ audience.name }}' as audience_name,
            eligible.customer_id
        from (select * from features) as eligible
        where ({{ audience.condition }})
            {%- if audience.consent_purpose %}
                and eligible.customer_id in (
                    select consent.customer_id from consent
                    where consent.purpose = '{{ audience.consent_purpose }}' and consent.consent_status = 'granted'
                )
            {%- endif %}
        {% if not loop.last %}union all{% endif %}
    {%- else %}
        {{ cdp.empty_select([['audience_name', dbt.type_string()], ['customer_id', dbt.type_string()]]) }}
    {%- endfor %}

),

{% if is_incremental() %}

open_stays as (

    select * from {{ this }}
    where exited_at is null

),

exits as (

    select
        open_stays.audience_name,
        open_stays.customer_id,
        open_stays.entered_at,
        {{ run_at }} as exited_at
    from open_stays
    left join current_members
        on open_stays.audience_name = current_members.audience_name
        and open_stays.customer_id = current_members.customer_id
    where current_members.customer_id is null

),

entries as (

    select
        current_members.audience_name,
        current_members.customer_id,
        {{ run_at }} as entered_at,
        cast(null as {{ dbt.type_timestamp() }}) as exited_at
    from current_members
    left join open_stays
        on current_members.audience_name = open_stays.audience_name
        and current_members.customer_id = open_stays.customer_id
    where open_stays.customer_id is null

),

changes as (

    select * from exits
    union all
    select * from entries

),

{% else %}

changes as (

    select
        audience_name,
        customer_id,
        {{ run_at }} as entered_at,
        cast(null as {{ dbt.type_timestamp() }}) as exited_at
    from current_members

),

{% endif %}

final as (

    select
        changes.audience_name,
        changes.customer_id,
        changes.entered_at,
        changes.exited_at,
        changes.exited_at is null as is_member
    from changes
    left join deleted_customers
        on changes.customer_id = deleted_customers.customer_id
    where deleted_customers.customer_id is null

)

select * from final
