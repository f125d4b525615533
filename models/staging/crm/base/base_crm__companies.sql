{%- set change_key = 'hs_object_id' -%}
{{ config(change_key=change_key) }}

with source as (

    {{ cdp.changed_source_rows(source('crm', 'companies'), change_key) }}

),

typed as (

    select
        hs_object_id as company_id,
        {{ cdp.clean_text('name') }} as company_name,
        lower({{ cdp.clean_text('domain') }}) as website_domain,
        {{ cdp.clean_text('industry') }} as industry,
        {{ cdp.clean_text('city') }} as city,
        {{ cdp.clean_text('country') }} as country,
        {{ cdp.blank_to_null('createdate') }} as created_at_raw,
        {{ cdp.parse_utc_timestamp('createdate', var('crm_source_timezone')) }} as created_at,
        {{ cdp.parse_utc_timestamp('lastmodifieddate', var('crm_source_timezone')) }} as updated_at,
        {{ cdp.to_utc_timestamp('_loaded_at') }} as _loaded_at,
        {{ cdp.change_tracking_columns() }}
    from source

),

checked as (

    {{ cdp.check_rows('typed', key='company_id', latest_first=['updated_at', '_loaded_at'], checks=[
        ['company_id is null', 'missing_key'],
        ['created_at_raw is null', 'missing_timestamp'],
        ['created_at is null', 'invalid_timestamp'],
    ]) }}

)

select * from checked
