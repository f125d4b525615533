{#-
    Staged records that describe a person, mapped onto the canonical attributes the matcher
    compares. Values are passed as staged (display form); the matcher normalises them.
-#}
{% macro matching_person_sources() %}
    {{ return([
        {'source': 'crm', 'model': 'stg_crm__contacts', 'source_table': 'crm.contacts', 'record_id': 'contact_id',
         'observed_at': 'coalesce(updated_at, created_at)', 'first_name': 'first_name', 'last_name': 'last_name',
         'birth_date': 'cast(birth_date as ' ~ dbt.type_string() ~ ')', 'address_line': 'address_line',
         'city': 'city', 'postcode': 'postcode', 'phone': 'coalesce(mobile_phone, phone)', 'email': 'email',
         'other_values': [['phone', 'case when mobile_phone is not null then phone end']]},
        {'source': 'shop', 'model': 'stg_shop__customers', 'source_table': 'shop.customers',
         'record_id': 'shop_customer_id', 'observed_at': 'coalesce(updated_at, created_at)',
         'first_name': 'first_name', 'last_name': 'last_name', 'birth_date': 'null', 'address_line': 'address_line',
         'city': 'city', 'postcode': 'postcode', 'phone': 'phone', 'email': 'email'},
        {'source': 'shop', 'model': 'stg_shop__orders', 'source_table': 'shop.orders', 'record_id': 'order_id',
         'observed_at': 'ordered_at', 'first_name': 'shipping_first_name', 'last_name': 'shipping_last_name',
         'birth_date': 'null', 'address_line': 'shipping_address_line', 'city': 'shipping_city',
         'postcode': 'shipping_postcode', 'phone': 'phone', 'email': 'email'},
        {'source': 'support', 'model': 'stg_support__tickets', 'source_table': 'support.tickets',
         'record_id': 'ticket_id', 'observed_at': 'created_at', 'first_name': 'requester_first_name_normalised',
         'last_name': 'requester_last_name_normalised', 'birth_date': 'null', 'address_line': 'null',
         'city': 'null', 'postcode': 'null', 'phone': 'requester_phone', 'email': 'requester_email',
         'other_values': [['support_requester_id', 'requester_id']]},
        {'source': 'segment', 'model': 'stg_segment__identifies', 'source_table': 'segment.identifies',
         'record_id': 'event_id', 'observed_at': 'occurred_at', 'first_name': 'first_name', 'last_name': 'last_name',
         'birth_date': 'null', 'address_line': 'null', 'city': 'null', 'postcode': 'null', 'phone': 'phone',
         'email': 'email'},
    ]) }}
{% endmacro %}
