{#- Rank of an identifier type in var identity_identifier_priority (1 = strongest). -#}
{% macro identifier_priority(type_column) -%}
    case {{ type_column }}
        {%- for identifier_type in var('identity_identifier_priority') %}
        when '{{ identifier_type }}' then {{ loop.index }}
        {%- endfor %}
    end
{%- endmacro %}
