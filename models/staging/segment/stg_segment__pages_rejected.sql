{{ cdp.rejected_rows(ref('base_segment__pages'), 'event_id') }}
