{{ cdp.rejected_rows(ref('base_crm__contacts'), 'contact_id') }}
