{#- Post-hook step of customer_events: remove the events whose source record no longer exists
    (deleted at the source, or now rejected by staging), as a full refresh would; among the
    records of `affected` (source_table, record_id) only, when given. -#}
{% macro delete_vanished_events(events_relation, unioned_relation, affected=none) %}
    delete from {{ events_relation }} as stored
    where not exists (
        select 1
        from {{ unioned_relation }} as unioned
        where unioned.source_table = stored.source_table
            and unioned.record_id = stored.record_id
    ){{ cdp.only_changed_records(affected, 'stored.source_table', 'stored.record_id') }}
{% endmacro %}
