{#- Every statement of consent a customer made, one row per statement and purpose:
    consent events (cookie banner, preference centre, checkout, CRM, support), unsubscribes
    and spam reports on the email platform (email denied), and CRM contacts marked as opted
    out of marketing email (email denied, as of the contact's last update). Statements whose
    record resolves to no customer are left out. -#}
{%- set statements = [] -%}
{%- if var('consent_enabled', true) -%}
    {%- do statements.append({
        'model': 'stg_consent__events', 'source_table': 'consent.consent_events', 'record_id': 'event_id',
        'purpose': 'purpose', 'is_granted': 'is_granted', 'stated_at': 'occurred_at',
        'statement_source': "'consent:' || consent_source"}) -%}
{%- endif -%}
{%- if var('email_enabled', true) -%}
    {%- do statements.append({
        'model': 'stg_email__events', 'source_table': 'email.email_events', 'record_id': 'event_id',
        'purpose': "'email'", 'is_granted': 'false', 'stated_at': 'occurred_at',
        'statement_source': "'email_platform:' || event_type",
        'where': "event_type in ('unsubscribe', 'spamreport')"}) -%}
{%- endif -%}
{%- if var('crm_enabled', true) -%}
    {%- do statements.append({
        'model': 'stg_crm__contacts', 'source_table': 'crm.contacts', 'record_id': 'contact_id',
        'purpose': "'email'", 'is_granted': 'false', 'stated_at': 'coalesce(updated_at, created_at)',
        'statement_source': "'crm:email_opt_out'", 'where': 'email_opt_out'}) -%}
{%- endif %}

with records_resolved as (

    select * from {{ ref('int_identity__records_resolved') }}

),

{{ cdp.import_ctes(statements | map(attribute='model')) }}

statements as (

    {{ cdp.union_entries(statements, [
        ['purpose', dbt.type_string()],
        ['is_granted', dbt.type_boolean()],
        ['stated_at', dbt.type_timestamp()],
        ['statement_source', dbt.type_string()],
    ]) }}

),

final as (

    select
        records_resolved.customer_id,
        statements.purpose,
        statements.is_granted,
        statements.stated_at,
        statements.statement_source,
        statements.source_table,
        statements.record_id
    from statements
    inner join records_resolved
        on statements.source_table = records_resolved.source_table
        and statements.record_id = records_resolved.record_id
    where statements.stated_at is not null

)

select * from final
