{%- set change_key = 'hs_object_id' -%}
{{ config(change_key=change_key) }}

with source as (

    {{ cdp.changed_source_rows(source('crm', 'contacts'), change_key) }}

),

typed as (

    select
        hs_object_id as contact_id,
        {{ cdp.clean_text('firstname') }} as first_name,
        {{ cdp.clean_text('lastname') }} as last_name,
        {{ cdp.normalise_name('firstname') }} as first_name_normalised,
        {{ cdp.normalise_name('lastname') }} as last_name_normalised,
        {{ cdp.clean_email('email') }} as email,
        {{ cdp.email_key('email') }} as email_key,
        {{ cdp.normalise_phone('phone') }} as phone,
        {{ cdp.normalise_phone('mobilephone') }} as mobile_phone,
        {{ cdp.clean_text('address') }} as address_line,
        {{ cdp.normalise_address('address') }} as address_normalised,
        {{ cdp.clean_text('city') }} as city,
        upper({{ cdp.clean_text('state') }}) as state,
        {{ cdp.normalise_postcode('zip') }} as postcode,
        {{ cdp.clean_text('country') }} as country,
        {{ cdp.parse_date('date_of_birth') }} as birth_date,
        lower({{ cdp.clean_text('lifecyclestage') }}) as lifecycle_stage,
        lower({{ cdp.clean_text('hs_lead_status') }}) as lead_status,
        {{ cdp.parse_boolean('hs_email_optout') }} as email_opt_out,
        {{ cdp.clean_identifier('associatedcompanyid') }} as company_id,
        {{ cdp.blank_to_null('createdate') }} as created_at_raw,
        {{ cdp.parse_utc_timestamp('createdate', var('crm_source_timezone')) }} as created_at,
        {{ cdp.parse_utc_timestamp('lastmodifieddate', var('crm_source_timezone')) }} as updated_at,
        {{ cdp.to_utc_timestamp('_loaded_at') }} as _loaded_at,
        {{ cdp.change_tracking_columns() }}
    from source

),

checked as (

    {{ cdp.check_rows('typed', key='contact_id', latest_first=['updated_at', '_loaded_at'], checks=[
        ['contact_id is null', 'missing_key'],
        ['created_at_raw is null', 'missing_timestamp'],
        ['created_at is null', 'invalid_timestamp'],
    ]) }}

)

select * from checked
