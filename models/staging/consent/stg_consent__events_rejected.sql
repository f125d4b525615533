{{ cdp.rejected_rows(ref('base_consent__events'), 'event_id') }}
