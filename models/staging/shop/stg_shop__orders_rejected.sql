{{ cdp.rejected_rows(ref('base_shop__orders'), 'order_id') }}
