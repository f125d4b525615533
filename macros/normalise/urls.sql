{#- Value of a query-string parameter of a URL, or null. -#}
{% macro url_parameter(url, name) -%}
    {{ cdp.regex_extract(url, '[?&]' ~ name ~ '=([^&#]+)') }}
{%- endmacro %}

{#- Ad click id carried by a landing URL (Google gclid, Meta fbclid, Microsoft msclkid). -#}
{% macro click_id_from_url(url) -%}
    coalesce(
        {{ cdp.url_parameter(url, 'gclid') }},
        {{ cdp.url_parameter(url, 'fbclid') }},
        {{ cdp.url_parameter(url, 'msclkid') }}
    )
{%- endmacro %}
