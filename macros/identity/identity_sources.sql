{#-
    Which staged records carry which identifiers. One entry per staged model:
        source: the source's name (its <source>_enabled var switches the entry off),
        model: the staged model, source_table: the raw table it stages (<source>.<table>), record_id / observed_at: its key and time columns,
        identifiers: [identifier type, column] pairs.
    Identifier types are listed in var identity_identifier_priority.
-#}
{% macro identity_record_sources() %}
    {{ return([
        {'source': 'segment', 'model': 'stg_segment__identifies', 'source_table': 'segment.identifies', 'record_id': 'event_id', 'observed_at': 'occurred_at',
         'identifiers': [['user_id', 'user_id'], ['anonymous_id', 'anonymous_id'], ['device_id', 'device_id'],
                         ['advertising_id', 'advertising_id'], ['email', 'email_key'], ['phone', 'phone']]},
        {'source': 'segment', 'model': 'stg_segment__pages', 'source_table': 'segment.pages', 'record_id': 'event_id', 'observed_at': 'occurred_at',
         'identifiers': [['user_id', 'user_id'], ['anonymous_id', 'anonymous_id'], ['click_id', 'click_id']]},
        {'source': 'segment', 'model': 'stg_segment__screens', 'source_table': 'segment.screens', 'record_id': 'event_id', 'observed_at': 'occurred_at',
         'identifiers': [['user_id', 'user_id'], ['anonymous_id', 'anonymous_id'], ['device_id', 'device_id'],
                         ['advertising_id', 'advertising_id']]},
        {'source': 'segment', 'model': 'stg_segment__tracks', 'source_table': 'segment.tracks', 'record_id': 'event_id', 'observed_at': 'occurred_at',
         'identifiers': [['user_id', 'user_id'], ['anonymous_id', 'anonymous_id'], ['device_id', 'device_id']]},
        {'source': 'email', 'model': 'stg_email__events', 'source_table': 'email.email_events', 'record_id': 'event_id', 'observed_at': 'occurred_at',
         'identifiers': [['email', 'email_key']]},
        {'source': 'ads', 'model': 'stg_ads__clicks', 'source_table': 'ads.ad_clicks', 'record_id': 'click_id', 'observed_at': 'clicked_at',
         'identifiers': [['click_id', 'click_id']]},
        {'source': 'ads', 'model': 'stg_ads__conversions', 'source_table': 'ads.ad_conversions', 'record_id': 'conversion_id', 'observed_at': 'converted_at',
         'identifiers': [['click_id', 'click_id']]},
        {'source': 'pos', 'model': 'stg_pos__transactions', 'source_table': 'pos.transactions', 'record_id': 'transaction_id', 'observed_at': 'occurred_at',
         'identifiers': [['loyalty_id', 'loyalty_id'], ['pos_card_token', 'card_token'], ['email', 'receipt_email_key'],
                         ['phone', 'receipt_phone']]},
        {'source': 'crm', 'model': 'stg_crm__contacts', 'source_table': 'crm.contacts', 'record_id': 'contact_id', 'observed_at': 'created_at',
         'identifiers': [['crm_contact_id', 'contact_id'], ['email', 'email_key'], ['phone', 'phone'],
                         ['phone', 'mobile_phone']]},
        {'source': 'support', 'model': 'stg_support__tickets', 'source_table': 'support.tickets', 'record_id': 'ticket_id', 'observed_at': 'created_at',
         'identifiers': [['support_requester_id', 'requester_id'], ['email', 'requester_email_key'],
                         ['phone', 'requester_phone']]},
        {'source': 'shop', 'model': 'stg_shop__customers', 'source_table': 'shop.customers', 'record_id': 'shop_customer_id', 'observed_at': 'created_at',
         'identifiers': [['shop_customer_id', 'shop_customer_id'], ['email', 'email_key'], ['phone', 'phone']]},
        {'source': 'shop', 'model': 'stg_shop__orders', 'source_table': 'shop.orders', 'record_id': 'order_id', 'observed_at': 'ordered_at',
         'identifiers': [['user_id', 'user_id'], ['shop_customer_id', 'shop_customer_id'], ['email', 'email_key'],
                         ['phone', 'phone'], ['click_id', 'click_id']]},
        {'source': 'consent', 'model': 'stg_consent__events', 'source_table': 'consent.consent_events', 'record_id': 'event_id', 'observed_at': 'occurred_at',
         'identifiers': [['email', "case when subject_type = 'email' then subject_value end"],
                         ['phone', "case when subject_type = 'phone' then subject_value end"],
                         ['user_id', "case when subject_type = 'user_id' then subject_value end"],
                         ['anonymous_id', "case when subject_type = 'anonymous_id' then subject_value end"]]},
        {'source': 'consent', 'model': 'stg_consent__deletion_requests', 'source_table': 'consent.deletion_requests', 'record_id': 'request_id',
         'observed_at': 'requested_at',
         'identifiers': [['email', 'email_key'], ['phone', 'phone'], ['user_id', 'user_id']]},
    ]) }}
{% endmacro %}

{#- The entries whose source is switched on. -#}
{% macro enabled_entries(entries) %}
    {%- set enabled = [] -%}
    {%- for entry in entries if var(entry.source ~ '_enabled', true) -%}
        {%- do enabled.append(entry) -%}
    {%- endfor -%}
    {{ return(enabled) }}
{% endmacro %}

