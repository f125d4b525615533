{{ cdp.rejected_rows(ref('base_shop__customers'), 'shop_customer_id') }}
