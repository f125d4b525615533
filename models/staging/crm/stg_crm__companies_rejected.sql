{{ cdp.rejected_rows(ref('base_crm__companies'), 'company_id') }}
