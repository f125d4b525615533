{%- set change_key = "transaction_id || '-' || line_number" -%}
{{ config(change_key=change_key) }}

with source as (

    {{ cdp.changed_source_rows(source('pos', 'transaction_lines'), change_key) }}

),

typed as (

    select
        transaction_id || '-' || line_number as transaction_line_id,
        {{ cdp.clean_identifier('transaction_id') }} as transaction_id,
        {{ cdp.parse_integer('line_number') }} as line_number,
        {{ cdp.clean_identifier('sku') }} as sku,
        {{ cdp.clean_identifier('product_id') }} as product_id,
        lower({{ cdp.clean_text('category') }}) as category,
        {{ cdp.blank_to_null('quantity') }} as quantity_raw,
        {{ cdp.parse_integer('quantity') }} as quantity,
        {{ cdp.blank_to_null('unit_price') }} as unit_price_raw,
        {{ cdp.parse_decimal('unit_price') }} as unit_price,
        {{ cdp.to_utc_timestamp('_loaded_at') }} as _loaded_at,
        {{ cdp.change_tracking_columns() }}
    from source

),

checked as (

    {{ cdp.check_rows('typed', key='transaction_line_id', latest_first='_loaded_at', checks=[
        ['transaction_line_id is null or line_number is null', 'missing_key'],
        ['quantity < 0', 'negative_quantity'],
        ['quantity is null or quantity = 0', 'invalid_quantity'],
        ['unit_price is null or unit_price < 0', 'invalid_amount'],
    ]) }}

)

select * from checked
