{{ cdp.rejected_rows(ref('base_pos__stores'), 'store_id') }}
