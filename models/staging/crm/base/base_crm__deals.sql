{%- set change_key = 'hs_object_id' -%}
{{ config(change_key=change_key) }}

with source as (

    {{ cdp.changed_source_rows(source('crm', 'deals'), change_key) }}

),

typed as (

    select
        hs_object_id as deal_id,
        {{ cdp.clean_text('dealname') }} as deal_name,
        {{ cdp.blank_to_null('amount') }} as amount_raw,
        {{ cdp.parse_decimal('amount') }} as amount,
        lower({{ cdp.clean_text('dealstage') }}) as deal_stage,
        {{ cdp.clean_text('pipeline') }} as pipeline,
        {{ cdp.parse_utc_timestamp('closedate', var('crm_source_timezone')) }} as close_at,
        {{ cdp.blank_to_null('createdate') }} as created_at_raw,
        {{ cdp.parse_utc_timestamp('createdate', var('crm_source_timezone')) }} as created_at,
        {{ cdp.clean_identifier('associated_contact_id') }} as contact_id,
        {{ cdp.clean_identifier('associated_company_id') }} as company_id,
        {{ cdp.to_utc_timestamp('_loaded_at') }} as _loaded_at,
        {{ cdp.change_tracking_columns() }}
    from source

),

checked as (

    {{ cdp.check_rows('typed', key='deal_id', latest_first='_loaded_at', checks=[
        ['deal_id is null', 'missing_key'],
        ['created_at_raw is null', 'missing_timestamp'],
        ['created_at is null', 'invalid_timestamp'],
        [cdp.is_unparseable('amount_raw', 'amount') ~ ' or amount < 0', 'invalid_amount'],
    ]) }}

)

select * from checked
