{{ cdp.rejected_rows(ref('base_segment__identifies'), 'event_id') }}
