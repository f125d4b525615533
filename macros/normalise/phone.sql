{#-
    Phone numbers to E.164 (+<country code><number>), or null when the text cannot be a
    phone number.

    Numbers written with + or 00 keep their country code. Others are national numbers of
    default_phone_country_code: for North America (1) a 10-digit number, or 11 digits with
    the leading 1, whose area code and exchange start with 2-9; elsewhere a leading trunk 0 is
    dropped. E.164 allows 8 to 15 digits after the +, and no country code starts with 0.
-#}
{% macro normalise_phone(expression, country_code=none) -%}
    {%- set cc = country_code if country_code is not none else var('default_phone_country_code') | string -%}
    {%- set raw = cdp.clean_text(expression) -%}
    {%- set digits = "regexp_replace(" ~ raw ~ ", '[^0-9]', '', 'g')" -%}
    {%- set international -%}
        case
            when {{ raw }} like '+%' then {{ digits }}
            when {{ digits }} like '00%' then substr({{ digits }}, 3)
            {%- if cc == '1' %}
            when length({{ digits }}) = 11 and {{ digits }} like '1%' then {{ digits }}
            when length({{ digits }}) = 10 then '1' || {{ digits }}
            {%- else %}
            when {{ digits }} like '0%' then '{{ cc }}' || substr({{ digits }}, 2)
            else '{{ cc }}' || {{ digits }}
            {%- endif %}
        end
    {%- endset -%}
    case
        when {{ raw }} is null then null
        when length({{ international }}) not between 8 and 15 then null
        when {{ international }} like '0%' then null
        when {{ international }} like '1%'
            and not {{ cdp.regex_matches(international, '^1[2-9][0-9]{2}[2-9][0-9]{6}$') }} then null
        else '+' || {{ international }}
    end
{%- endmacro %}
