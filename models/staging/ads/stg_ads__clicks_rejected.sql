{{ cdp.rejected_rows(ref('base_ads__clicks'), 'click_id') }}
