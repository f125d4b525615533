{#- The audiences of var audiences, checked: a list of {name, description, condition,
    consent_purpose}; a malformed entry stops the build naming the entry, key and value. -#}
{% macro audience_definitions() %}
    {%- set audiences = var('audiences', []) or [] -%}
    {%- set purposes = var('privacy_consent_purposes') -%}
    {%- set names = [] -%}
    {%- for audience in audiences -%}
        {%- set where = 'dbt_project.yml vars: audiences[' ~ loop.index0 ~ ']' -%}
        {%- if audience is not mapping -%}
            {{ exceptions.raise_compiler_error(where ~ " is not a mapping: " ~ audience) }}
        {%- endif -%}
        {%- set name = audience.get('name') -%}
        {%- if not name or not modules.re.match('^[a-z][a-z0-9_]*$', name | string) -%}
            {{ exceptions.raise_compiler_error(where ~ ".name '" ~ name
                ~ "' must be lowercase letters, digits and underscores") }}
        {%- endif -%}
        {%- if name in names -%}
            {{ exceptions.raise_compiler_error(where ~ ".name '" ~ name ~ "' is used twice") }}
        {%- endif -%}
        {%- do names.append(name) -%}
        {%- if not (audience.get('condition') or '') | trim -%}
            {{ exceptions.raise_compiler_error(where ~ ".condition is empty for audience '" ~ name ~ "'") }}
        {%- endif -%}
        {%- if ';' in audience.condition -%}
            {{ exceptions.raise_compiler_error(where ~ ".condition '" ~ audience.condition
                ~ "' must be one SQL expression (no ';')") }}
        {%- endif -%}
        {%- set purpose = audience.get('consent_purpose') -%}
        {%- if purpose is not none and purpose not in purposes -%}
            {{ exceptions.raise_compiler_error(where ~ ".consent_purpose '" ~ purpose
                ~ "' is not one of privacy_consent_purposes " ~ purposes | join(', ')) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(audiences) }}
{% endmacro %}
