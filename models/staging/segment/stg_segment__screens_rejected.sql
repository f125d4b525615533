{{ cdp.rejected_rows(ref('base_segment__screens'), 'event_id') }}
