{#-
    Email addresses.

    clean_email: trimmed, lowercased, inner spaces removed; null when empty, a null token, or
        not shaped like local@domain.tld. This is the address to send to.
    email_key: the identity key of an address. Plus tags are dropped (jo+shop@x.com is
        jo@x.com), and for Gmail dots in the local part are dropped and googlemail.com is
        gmail.com, because those providers deliver all such variants to one mailbox.
    is_malformed_email: a value was given but it is not an email address.
-#}
{% macro email_pattern() -%}
    ^[a-z0-9._%+''-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}$
{%- endmacro %}

{% macro clean_email(expression) -%}
    {%- set lowered = "lower(regexp_replace(" ~ cdp.clean_text(expression) ~ ", '\\s', '', 'g'))" -%}
    case
        when {{ cdp.regex_matches(lowered, cdp.email_pattern()) }} then {{ lowered }}
    end
{%- endmacro %}

{% macro email_key(expression) -%}
    {%- set address = cdp.clean_email(expression) -%}
    {%- set local_part = "regexp_replace(split_part(" ~ address ~ ", '@', 1), '\\+.*$', '')" -%}
    {%- set domain = "split_part(" ~ address ~ ", '@', 2)" -%}
    case
        when {{ address }} is null then null
        when {{ domain }} in ('gmail.com', 'googlemail.com')
            then replace({{ local_part }}, '.', '') || '@gmail.com'
        else {{ local_part }} || '@' || {{ domain }}
    end
{%- endmacro %}

{% macro is_malformed_email(expression) -%}
    ({{ cdp.clean_text(expression) }} is not null and {{ cdp.clean_email(expression) }} is null)
{%- endmacro %}
