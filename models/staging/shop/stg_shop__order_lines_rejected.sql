{{ cdp.rejected_rows(ref('base_shop__order_lines'), 'order_line_id') }}
