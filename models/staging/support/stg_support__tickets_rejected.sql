{{ cdp.rejected_rows(ref('base_support__tickets'), 'ticket_id') }}
