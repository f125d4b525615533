{{ cdp.rejected_rows(ref('base_email__events'), 'event_id') }}
