{#-
    String similarity with one definition on every engine.

    jaro_winkler: Jaro similarity with Winkler's prefix boost (scale 0.1, prefix of up to 4
        characters, applied when the Jaro similarity exceeds 0.7); 0 when either string is
        empty. DuckDB has it built in; Postgres gets cdp_jaro_winkler (cdp_create_udfs),
        written to give the same numbers.
    levenshtein: edit distance. DuckDB built in; Postgres from the fuzzystrmatch extension.
-#}
{% macro jaro_winkler(left, right) %}
    {{ return(adapter.dispatch('jaro_winkler', 'cdp')(left, right)) }}
{% endmacro %}

{% macro default__jaro_winkler(left, right) -%}
    jaro_winkler_similarity({{ left }}, {{ right }})
{%- endmacro %}

{% macro postgres__jaro_winkler(left, right) -%}
    {{ target.schema }}.cdp_jaro_winkler({{ left }}, {{ right }})
{%- endmacro %}


{% macro levenshtein(left, right) %}
    {{ return(adapter.dispatch('levenshtein', 'cdp')(left, right)) }}
{% endmacro %}

{% macro default__levenshtein(left, right) -%}
    levenshtein({{ left }}, {{ right }})
{%- endmacro %}

{% macro postgres__levenshtein(left, right) -%}
    levenshtein({{ left }}, {{ right }})
{%- endmacro %}
