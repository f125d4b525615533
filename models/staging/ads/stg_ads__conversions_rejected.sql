{{ cdp.rejected_rows(ref('base_ads__conversions'), 'conversion_id') }}
