{#-
    The staging pattern every source follows.

    A base model (models/staging/<source>/base/base_<source>__<entity>s.sql) casts and
    normalises the raw table and adds two columns:
        _reject_reason  why the row cannot be staged (first failing check), null when fine;
        _version_rank   1 for the copy of a key loaded last, 2.. for earlier copies
                        (redelivered or superseded rows); 1 for every row without a key.
    The staged model keeps rank 1 without a reason, the rejected model keeps rank 1 with a
    reason, and the copies of rank 2 and above are the duplicates. The row_conservation test
    proves raw = staged + rejected + duplicates.
-#}

{#- checks: list of [condition, reason code]; gives the first reason whose condition holds. -#}
{% macro reject_reason(checks) -%}
    case
        {%- for condition, reason in checks %}
        when {{ condition }} then '{{ reason }}'
        {%- endfor %}
    end
{%- endmacro %}

{#- key: SQL expression of the record key (null when missing); latest_first: an expression or a
    list of expressions, the first row in descending order (nulls last) is the version kept. -#}
{% macro version_rank(key, latest_first) -%}
    {%- set order_terms = [latest_first] if latest_first is string else latest_first -%}
    case
        when {{ key }} is null then 1
        else row_number() over (
            partition by {{ key }}
            order by {% for term in order_terms %}{{ term }} desc nulls last{% if not loop.last %}, {% endif %}{% endfor %}
        )
    end
{%- endmacro %}

{#- Body of a rejected model: the base rows staging refused, with their reason. -#}
{% macro rejected_rows(base_relation, key) -%}
    select
        cast({{ key }} as {{ dbt.type_string() }}) as record_key,
        _reject_reason as reject_reason,
        base.*
    from {{ base_relation }} as base
    where _reject_reason is not null and _version_rank = 1
{%- endmacro %}

{#- Body of a base model's `checked` step: the typed rows with _reject_reason and _version_rank. -#}
{% macro check_rows(relation, key, latest_first, checks) -%}
    select
        {{ relation }}.*,
        {{ cdp.reject_reason(checks) }} as _reject_reason,
        {{ cdp.version_rank(key, latest_first) }} as _version_rank
    from {{ relation }}
{%- endmacro %}
