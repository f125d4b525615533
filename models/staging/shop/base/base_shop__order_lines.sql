{%- set change_key = 'id' -%}
{{ config(change_key=change_key) }}

with source as (

    {{ cdp.changed_source_rows(source('shop', 'order_lines'), change_key) }}

),

typed as (

    select
        cast(id as {{ dbt.type_string() }}) as order_line_id,
        cast(order_id as {{ dbt.type_string() }}) as order_id,
        {{ cdp.clean_identifier('product_id') }} as product_id,
        {{ cdp.clean_identifier('sku') }} as sku,
        {{ cdp.clean_text('title') }} as title,
        lower({{ cdp.clean_text('product_type') }}) as category,
        quantity,
        cast(price as {{ dbt.type_numeric() }}) as unit_price,
        {{ cdp.to_utc_timestamp('_fivetran_synced') }} as _loaded_at,
        {{ cdp.change_tracking_columns() }}
    from source

),

checked as (

    {{ cdp.check_rows('typed', key='order_line_id', latest_first='_loaded_at', checks=[
        ['order_line_id is null', 'missing_key'],
        ['order_id is null', 'missing_reference'],
        ['quantity < 0', 'negative_quantity'],
        ['quantity is null or quantity = 0', 'invalid_quantity'],
        ['unit_price is null or unit_price < 0', 'invalid_amount'],
    ]) }}

)

select * from checked
