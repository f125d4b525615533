{{ cdp.rejected_rows(ref('base_pos__transactions'), 'transaction_id') }}
