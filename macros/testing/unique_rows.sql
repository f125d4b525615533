{#- Rows of `model` whose values of `columns` (SQL expressions) repeat: the values (the one
    column named `alias` when given) and how many rows carry them (n_records); what the
    `unique` and `unique_combination_of_columns` tests return. `where`: rows to consider. -#}
{% macro repeated_values(model, columns, where=none, alias=none) %}
    {{ return(adapter.dispatch('repeated_values', 'cdp')(model, columns, where, alias)) }}
{% endmacro %}

{% macro default__repeated_values(model, columns, where, alias) %}
select
    {{ columns | join(', ') }}{{ ' as ' ~ alias if alias }},
    count(*) as n_records
from {{ model }}
{%- if where %}
where {{ where }}
{%- endif %}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endmacro %}

{#- DuckDB groups one 64-bit hash of the values much faster than the values themselves (text
    keys of millions of rows); only the rows whose hash repeats are then grouped by value, so
    the answer is exact. -#}
{% macro duckdb__repeated_values(model, columns, where, alias) %}
select
    {{ columns | join(', ') }}{{ ' as ' ~ alias if alias }},
    count(*) as n_records
from {{ model }}
where hash({{ columns | join(', ') }}) in (
    select hash({{ columns | join(', ') }})
    from {{ model }}
    {%- if where %}
    where {{ where }}
    {%- endif %}
    group by 1
    having count(*) > 1
)
{%- if where %}
    and {{ where }}
{%- endif %}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endmacro %}

{#- dbt's built-in `unique` test, on DuckDB by hash first (duckdb__repeated_values): the rows
    dbt's own returns, each repeated non-null value as unique_field with n_records. -#}
{% macro duckdb__test_unique(model, column_name) %}
{{ cdp.repeated_values(model, [column_name], where=column_name ~ ' is not null', alias='unique_field') }}
{% endmacro %}
