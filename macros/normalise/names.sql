{#-
    Person names, street addresses and postcodes in the form matching compares.

    normalise_name: lowercase, digits and punctuation other than hyphen and apostrophe
        removed, whitespace collapsed; null when nothing is left.
    normalise_address: lowercase, punctuation removed, whitespace collapsed.
    normalise_postcode: uppercase letters and digits only; a US ZIP+4 becomes its 5-digit ZIP.
-#}
{% macro normalise_name(expression) -%}
    nullif(trim(regexp_replace(
        regexp_replace(lower({{ cdp.clean_text(expression) }}), '[0-9!"#$%&()*+,./:;<=>?@^_`{|}~\\\[\]]', '', 'g'),
        '\s+', ' ', 'g'
    )), '')
{%- endmacro %}

{% macro normalise_address(expression) -%}
    nullif(trim(regexp_replace(
        regexp_replace(lower({{ cdp.clean_text(expression) }}), '[^a-z0-9 ]', ' ', 'g'),
        '\s+', ' ', 'g'
    )), '')
{%- endmacro %}

{% macro normalise_postcode(expression) -%}
    {%- set compact = "upper(regexp_replace(" ~ cdp.clean_text(expression) ~ ", '[^A-Za-z0-9]', '', 'g'))" -%}
    case
        when {{ cdp.regex_matches(compact, '^[0-9]{9}$') }} then substr({{ compact }}, 1, 5)
        else nullif({{ compact }}, '')
    end
{%- endmacro %}
