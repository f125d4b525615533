{#-
    Text cleaning shared by every staging model.

    null_tokens: strings that loaders, forms and exports write where they mean "no value".
    blank_to_null: trimmed text, or null when empty.
    clean_text: whitespace collapsed and trimmed; null for blanks and null tokens.
-#}
{% macro null_tokens() -%}
    {{ return(['', 'null', 'none', 'nil', 'n/a', 'na', 'nan', 'undefined', 'unknown', '-', '--', '?']) }}
{%- endmacro %}

{% macro blank_to_null(expression) -%}
    nullif(trim(cast({{ expression }} as {{ dbt.type_string() }})), '')
{%- endmacro %}

{% macro clean_text(expression) -%}
    case
        when lower(trim(cast({{ expression }} as {{ dbt.type_string() }}))) in (
            {%- for token in cdp.null_tokens() %}'{{ token }}'{% if not loop.last %}, {% endif %}{% endfor -%}
        ) then null
        else regexp_replace(trim(cast({{ expression }} as {{ dbt.type_string() }})), '\s+', ' ', 'g')
    end
{%- endmacro %}

{#- An opaque identifier (ids, tokens, loyalty numbers): trimmed, null tokens removed, case kept. -#}
{% macro clean_identifier(expression) -%}
    case
        when lower(trim(cast({{ expression }} as {{ dbt.type_string() }}))) in (
            {%- for token in cdp.null_tokens() %}'{{ token }}'{% if not loop.last %}, {% endif %}{% endfor -%}
        ) then null
        else trim(cast({{ expression }} as {{ dbt.type_string() }}))
    end
{%- endmacro %}
