{{ cdp.rejected_rows(ref('base_ads__spend'), 'spend_key') }}
