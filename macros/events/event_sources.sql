{#-
    How each staged model becomes events of the unified stream. One entry per model:
        source / model / source_table / record_id / occurred_at: as in identity_record_sources,
        event_type, event_name, channel, revenue: SQL expressions over the model's columns.
-#}
{% macro event_sources() %}
    {{ return([
        {'source': 'segment', 'model': 'stg_segment__identifies', 'source_table': 'segment.identifies',
         'record_id': 'event_id', 'occurred_at': 'occurred_at',
         'event_type': "'identify'", 'event_name': "'identify'", 'channel': 'platform', 'revenue': 'null'},
        {'source': 'segment', 'model': 'stg_segment__pages', 'source_table': 'segment.pages',
         'record_id': 'event_id', 'occurred_at': 'occurred_at',
         'event_type': "'page_view'", 'event_name': 'coalesce(page_name, page_path)', 'channel': 'platform',
         'revenue': 'null'},
        {'source': 'segment', 'model': 'stg_segment__screens', 'source_table': 'segment.screens',
         'record_id': 'event_id', 'occurred_at': 'occurred_at',
         'event_type': "'screen_view'", 'event_name': 'screen_name', 'channel': 'platform', 'revenue': 'null'},
        {'source': 'segment', 'model': 'stg_segment__tracks', 'source_table': 'segment.tracks',
         'record_id': 'event_id', 'occurred_at': 'occurred_at',
         'event_type': "'track'", 'event_name': 'event_name', 'channel': 'platform', 'revenue': 'revenue'},
        {'source': 'email', 'model': 'stg_email__events', 'source_table': 'email.email_events',
         'record_id': 'event_id', 'occurred_at': 'occurred_at',
         'event_type': "'email_' || event_type", 'event_name': 'campaign_name', 'channel': "'email'",
         'revenue': 'null'},
        {'source': 'ads', 'model': 'stg_ads__clicks', 'source_table': 'ads.ad_clicks',
         'record_id': 'click_id', 'occurred_at': 'clicked_at',
         'event_type': "'ad_click'", 'event_name': 'campaign_id', 'channel': 'platform', 'revenue': 'null'},
        {'source': 'ads', 'model': 'stg_ads__conversions', 'source_table': 'ads.ad_conversions',
         'record_id': 'conversion_id', 'occurred_at': 'converted_at',
         'event_type': "'ad_conversion'", 'event_name': 'conversion_action', 'channel': 'platform',
         'revenue': 'null'},
        {'source': 'pos', 'model': 'stg_pos__transactions', 'source_table': 'pos.transactions',
         'record_id': 'transaction_id', 'occurred_at': 'occurred_at',
         'event_type': "case transaction_type when 'return' then 'store_return' else 'store_purchase' end",
         'event_name': 'store_id', 'channel': "'store'", 'revenue': 'total_amount'},
        {'source': 'crm', 'model': 'stg_crm__contacts', 'source_table': 'crm.contacts',
         'record_id': 'contact_id', 'occurred_at': 'created_at',
         'event_type': "'crm_contact_created'", 'event_name': 'lifecycle_stage', 'channel': "'crm'",
         'revenue': 'null'},
        {'source': 'support', 'model': 'stg_support__tickets', 'source_table': 'support.tickets',
         'record_id': 'ticket_id', 'occurred_at': 'created_at',
         'event_type': "'ticket_created'", 'event_name': 'channel', 'channel': "'support'", 'revenue': 'null'},
        {'source': 'shop', 'model': 'stg_shop__orders', 'source_table': 'shop.orders',
         'record_id': 'order_id', 'occurred_at': 'ordered_at',
         'event_type': "'order_placed'", 'event_name': 'order_number', 'channel': "'online'",
         'revenue': 'case when cancelled_at is null then total_price else 0 end'},
        {'source': 'consent', 'model': 'stg_consent__events', 'source_table': 'consent.consent_events',
         'record_id': 'event_id', 'occurred_at': 'occurred_at',
         'event_type': "'consent_' || status", 'event_name': 'purpose', 'channel': 'consent_source',
         'revenue': 'null'},
        {'source': 'consent', 'model': 'stg_consent__deletion_requests', 'source_table': 'consent.deletion_requests',
         'record_id': 'request_id', 'occurred_at': 'requested_at',
         'event_type': "'deletion_requested'", 'event_name': 'status', 'channel': "'privacy'", 'revenue': 'null'},
    ]) }}
{% endmacro %}

{#-
    Person attributes each staged model observes, for the customer profile. Entries as above
    with first_name, last_name, email (sendable address), email_key, phone: SQL expressions or 'null'.
-#}
{% macro person_attribute_sources() %}
    {{ return([
        {'source': 'segment', 'model': 'stg_segment__identifies', 'source_table': 'segment.identifies',
         'record_id': 'event_id', 'observed_at': 'occurred_at',
         'first_name': 'first_name', 'last_name': 'last_name', 'email': 'email', 'email_key': 'email_key', 'phone': 'phone'},
        {'source': 'crm', 'model': 'stg_crm__contacts', 'source_table': 'crm.contacts',
         'record_id': 'contact_id', 'observed_at': 'coalesce(updated_at, created_at)',
         'first_name': 'first_name', 'last_name': 'last_name', 'email': 'email', 'email_key': 'email_key',
         'phone': 'coalesce(mobile_phone, phone)'},
        {'source': 'shop', 'model': 'stg_shop__customers', 'source_table': 'shop.customers',
         'record_id': 'shop_customer_id', 'observed_at': 'coalesce(updated_at, created_at)',
         'first_name': 'first_name', 'last_name': 'last_name', 'email': 'email', 'email_key': 'email_key',
         'phone': 'phone'},
        {'source': 'shop', 'model': 'stg_shop__orders', 'source_table': 'shop.orders',
         'record_id': 'order_id', 'observed_at': 'ordered_at',
         'first_name': 'shipping_first_name', 'last_name': 'shipping_last_name', 'email': 'email',
         'email_key': 'email_key', 'phone': 'phone'},
        {'source': 'support', 'model': 'stg_support__tickets', 'source_table': 'support.tickets',
         'record_id': 'ticket_id', 'observed_at': 'created_at',
         'first_name': 'null', 'last_name': 'null', 'email': 'requester_email',
         'email_key': 'requester_email_key', 'phone': 'requester_phone'},
        {'source': 'pos', 'model': 'stg_pos__transactions', 'source_table': 'pos.transactions',
         'record_id': 'transaction_id', 'observed_at': 'occurred_at',
         'first_name': 'null', 'last_name': 'null', 'email': 'receipt_email',
         'email_key': 'receipt_email_key', 'phone': 'receipt_phone'},
    ]) }}
{% endmacro %}
