{#-
    Numbers written as text (CSV exports). Only plain decimal notation parses, so the result
    is the same on every engine: '12,50', 'N/A' and '1e3' give null (and staging rejects the
    row when the value was required).
-#}
{% macro parse_integer(expression) -%}
    case
        when {{ cdp.regex_matches('trim(' ~ expression ~ ')', '^[+-]?[0-9]{1,9}$') }}
            then cast(trim({{ expression }}) as integer)
    end
{%- endmacro %}

{% macro parse_decimal(expression) -%}
    case
        when {{ cdp.regex_matches('trim(' ~ expression ~ ')', '^[+-]?[0-9]{1,12}([.][0-9]{1,4})?$') }}
            then cast(trim({{ expression }}) as {{ dbt.type_numeric() }})
    end
{%- endmacro %}

{#- A value was given but did not parse. -#}
{% macro is_unparseable(raw_expression, parsed_expression) -%}
    ({{ cdp.blank_to_null(raw_expression) }} is not null and {{ parsed_expression }} is null)
{%- endmacro %}

{#- Text flags ('true', 'yes', '1', ...) as booleans; null when absent or unrecognised. -#}
{% macro parse_boolean(expression) -%}
    case
        when lower(trim(cast({{ expression }} as {{ dbt.type_string() }}))) in ('true', 't', 'yes', 'y', '1') then true
        when lower(trim(cast({{ expression }} as {{ dbt.type_string() }}))) in ('false', 'f', 'no', 'n', '0') then false
    end
{%- endmacro %}
