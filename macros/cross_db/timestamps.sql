{#-
    Everything downstream of staging holds naive timestamps in UTC.

    to_utc_timestamp: a timestamptz column (or a naive column the loader wrote in UTC)
        -> naive UTC timestamp.
    parse_utc_timestamp: ISO 8601 text -> naive UTC timestamp, null when unparseable.
        With source_timezone, text without an offset is read as wall-clock time there.
        Only text starting with a YYYY-MM-DD date parses: engines disagree on words such as
        'yesterday' or 'infinity' (Postgres reads them as times), so neither may.
-#}
{% macro to_utc_timestamp(expression) -%}
    (cast({{ expression }} as timestamp with time zone) at time zone 'UTC')
{%- endmacro %}

{% macro iso_date_text(expression) -%}
    case
        when {{ cdp.regex_matches(cdp.blank_to_null(expression), '^[0-9]{4}-[0-9]{2}-[0-9]{2}') }}
            then {{ cdp.blank_to_null(expression) }}
    end
{%- endmacro %}

{% macro parse_utc_timestamp(expression, source_timezone=none) -%}
    {%- if source_timezone is none or source_timezone == 'UTC' -%}
        ({{ cdp.try_cast(cdp.iso_date_text(expression), 'timestamptz') }} at time zone 'UTC')
    {%- else -%}
        (({{ cdp.try_cast(cdp.iso_date_text(expression), 'timestamp') }} at time zone '{{ source_timezone }}')
            at time zone 'UTC')
    {%- endif -%}
{%- endmacro %}

{#- A YYYY-MM-DD date written as text; null when unparseable. -#}
{% macro parse_date(expression) -%}
    {{ cdp.try_cast(cdp.iso_date_text(expression), 'date') }}
{%- endmacro %}
