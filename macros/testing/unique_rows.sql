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

{#- DuckDB finds the repeated values by a 64-bit hash of them first, and finds repeated hashes
    by sorting them rather than grouping them: a hash table of tens of millions of distinct
    hashes is the slow part, a sort of them and a look at each one's neighbour is about twice as
    fast (the (source_table, record_id) keys of int_identity__record_anchors, 43.2M rows at
    1,000,000 customers: 6.5 s grouped, 3.3 s sorted; customer_events' event keys: 7.1 s and
    3.4 s). Only the rows whose hash repeats are then grouped by value, so the answer is exact;
    when no hash repeats (a passing test), the join reads almost nothing of the model again. -#}
{% macro duckdb__repeated_values(model, columns, where, alias) %}
with repeated_hashes as (
    select distinct _cdp_hash as _cdp_repeated_hash
    from (
        select
            _cdp_hash,
            lead(_cdp_hash) over (order by _cdp_hash) as _cdp_next_hash
        from (
            select hash({{ columns | join(', ') }}) as _cdp_hash
            from {{ model }}
            {%- if where %}
            where {{ where }}
            {%- endif %}
        ) as hashed
    ) as sorted_hashes
    where _cdp_hash = _cdp_next_hash
)
select
    {{ columns | join(', ') }}{{ ' as ' ~ alias if alias }},
    count(*) as n_records
from repeated_hashes
inner join {{ model }}
    on hash({{ columns | join(', ') }}) = repeated_hashes._cdp_repeated_hash
{%- if where %}
where {{ where }}
{%- endif %}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endmacro %}

{#- dbt's built-in `unique` test, on DuckDB by hash first (duckdb__repeated_values): the rows
    dbt's own returns, each repeated non-null value as unique_field with n_records. -#}
{% macro duckdb__test_unique(model, column_name) %}
{{ cdp.repeated_values(model, [column_name], where=column_name ~ ' is not null', alias='unique_field') }}
{% endmacro %}
