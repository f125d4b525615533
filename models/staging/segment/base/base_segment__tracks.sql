{%- set change_key = 'id' -%}
{{ config(change_key=change_key) }}

with source as (

    {{ cdp.changed_source_rows(source('segment', 'tracks'), change_key) }}

),

typed as (

    select
        {{ cdp.segment_common_columns() }},
        lower({{ cdp.clean_text('event') }}) as event_name,
        {{ cdp.clean_text('event_text') }} as event_text,
        {{ cdp.clean_identifier('product_id') }} as product_id,
        lower({{ cdp.clean_text('product_category') }}) as product_category,
        {{ cdp.clean_identifier('order_id') }} as order_id,
        cast(revenue as {{ dbt.type_numeric() }}) as revenue,
        {{ cdp.click_id_from_url('context_page_url') }} as click_id,
        {{ cdp.change_tracking_columns() }}
    from source

),

checked as (

    {{ cdp.check_rows(
        'typed',
        key='event_id',
        latest_first='_loaded_at',
        checks=cdp.segment_reject_checks() + [['event_name is null', 'missing_event_name']],
    ) }}

)

select * from checked
