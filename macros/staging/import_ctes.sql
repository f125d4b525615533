{#- One import CTE (`<model> as (select * from ref(model))`, each followed by a comma) per
    distinct model name, for models that union a configurable list of sources. -#}
{% macro import_ctes(models) -%}
    {%- for model in models | unique %}
{{ model }} as (

    select * from {{ ref(model) }}

),
    {% endfor -%}
{%- endmacro %}
