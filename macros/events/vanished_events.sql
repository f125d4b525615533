{#- Post-hook of customer_events: remove the events whose source record no longer exists
    (deleted at the source, or now rejected by staging), as a full refresh would. -#}
{% macro delete_vanished_events(events_relation, unioned_relation) %}
    delete from {{ events_relation }} as stored
    where not exists (
        select 1
        from {{ unioned_relation }} as unioned
        where unioned.source_table = stored.source_table
            and unioned.record_id = stored.record_id
    )
{% endmacro %}
