{#-
    No silent row loss: every raw row is staged, rejected with a reason, or a duplicate of a
    key that is staged or rejected. Attached to a source table; key is the record key
    expression over raw columns (null when the key is missing).
-#}
{% test row_conservation(model, staged, rejected, key) %}

with raw_counts as (
    select
        count(*) as raw_rows,
        count({{ key }}) - count(distinct {{ key }}) as duplicate_rows
    from {{ model }}
),

staged_counts as (
    select count(*) as staged_rows from {{ staged }}
),

rejected_counts as (
    select count(*) as rejected_rows from {{ rejected }}
),

final as (
    select
        raw_counts.raw_rows,
        staged_counts.staged_rows,
        rejected_counts.rejected_rows,
        raw_counts.duplicate_rows
    from raw_counts
    cross join staged_counts
    cross join rejected_counts
)

select * from final
where raw_rows != staged_rows + rejected_rows + duplicate_rows

{% endtest %}
