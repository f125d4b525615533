{{ cdp.rejected_rows(ref('base_pos__transaction_lines'), 'transaction_line_id') }}
