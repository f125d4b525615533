{{ cdp.rejected_rows(ref('base_segment__tracks'), 'event_id') }}
