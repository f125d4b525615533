{%- set change_key = 'transaction_id' -%}
{{ config(change_key=change_key) }}

with source as (

    {{ cdp.changed_source_rows(source('pos', 'transactions'), change_key) }}

),

typed as (

    select
        transaction_id,
        {{ cdp.clean_identifier('store_id') }} as store_id,
        {{ cdp.clean_identifier('register_id') }} as register_id,
        {{ cdp.blank_to_null('transaction_date') }} as transaction_date_raw,
        {{ cdp.blank_to_null('transaction_time') }} as transaction_time_raw,
        {{ cdp.parse_utc_timestamp("transaction_date || ' ' || transaction_time", var('pos_source_timezone')) }}
            as occurred_at,
        lower({{ cdp.clean_text('transaction_type') }}) as transaction_type,
        {{ cdp.clean_identifier('loyalty_id') }} as loyalty_id,
        {{ cdp.clean_identifier('card_token') }} as card_token,
        lower({{ cdp.clean_text('payment_method') }}) as payment_method,
        {{ cdp.clean_email('receipt_email') }} as receipt_email,
        {{ cdp.email_key('receipt_email') }} as receipt_email_key,
        {{ cdp.normalise_phone('receipt_phone') }} as receipt_phone,
        {{ cdp.blank_to_null('item_count') }} as item_count_raw,
        {{ cdp.parse_integer('item_count') }} as item_count,
        {{ cdp.blank_to_null('total_amount') }} as total_amount_raw,
        {{ cdp.parse_decimal('total_amount') }} as total_amount,
        upper({{ cdp.clean_text('currency') }}) as currency,
        {{ cdp.to_utc_timestamp('_loaded_at') }} as _loaded_at,
        {{ cdp.change_tracking_columns() }}
    from source

),

checked as (

    {{ cdp.check_rows('typed', key='transaction_id', latest_first='_loaded_at', checks=[
        ['transaction_id is null', 'missing_key'],
        ['transaction_date_raw is null or transaction_time_raw is null', 'missing_timestamp'],
        ['occurred_at is null', 'invalid_timestamp'],
        ["transaction_type is null or transaction_type not in ('sale', 'return')", 'unknown_transaction_type'],
        ['item_count < 0', 'negative_quantity'],
        [cdp.is_unparseable('item_count_raw', 'item_count'), 'invalid_quantity'],
        ['total_amount is null', 'invalid_amount'],
    ]) }}

)

select * from checked
