{{ cdp.rejected_rows(ref('base_consent__deletion_requests'), 'request_id') }}
