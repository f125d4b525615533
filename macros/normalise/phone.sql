{#-
    Phone numbers to E.164 (+<country code><number>), or null when the text cannot be a
    phone number.

    Numbers written with + or 00 keep their country code. Others are national numbers of
    default_phone_country_code: for North America (1) a 10-digit number (a leading 1 is the
    country code already); elsewhere a leading trunk 0 is replaced by the country code. The
    result must be a plausible E.164 number: for country code 1 the North American plan (area
    code and exchange start with 2-9), otherwise 8 to 15 digits not starting with 0.

    Written so the digit string is computed as few times as possible: the expression is
    inlined wherever it is used, and engines do not share repeated sub-expressions.
-#}
{% macro normalise_phone(expression, country_code=none) -%}
    {%- set cc = country_code if country_code is not none else var('default_phone_country_code') | string -%}
    {%- set raw = cdp.clean_text(expression) -%}
    {%- set digits = "regexp_replace(regexp_replace(" ~ raw ~ ", '[^0-9]', '', 'g'), '^00', '')" -%}
    {%- if cc == '1' -%}
        {%- set national = "regexp_replace(" ~ digits ~ ", '^([2-9][0-9]{9})$', '1\\1')" -%}
    {%- else -%}
        {%- set national = "regexp_replace(" ~ digits ~ ", '^0', '" ~ cc ~ "')" -%}
    {%- endif -%}
    {%- set international -%}
        (case when trim(cast({{ expression }} as {{ dbt.type_string() }})) like '+%' then {{ digits }} else {{ national }} end)
    {%- endset -%}
    case
        when {{ cdp.regex_matches(international, '^(1[2-9][0-9]{2}[2-9][0-9]{6}|[2-9][0-9]{7,14})$') }}
            then '+' || {{ international }}
    end
{%- endmacro %}
