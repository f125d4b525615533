{{ cdp.rejected_rows(ref('base_crm__deals'), 'deal_id') }}
