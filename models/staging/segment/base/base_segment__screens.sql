{%- set change_key = 'id' -%}
{{ config(change_key=change_key) }}

with source as (

    {{ cdp.changed_source_rows(source('segment', 'screens'), change_key) }}

),

typed as (

    select
        {{ cdp.segment_common_columns() }},
        {{ cdp.clean_text('name') }} as screen_name,
        {{ cdp.change_tracking_columns() }}
    from source

),

checked as (

    {{ cdp.check_rows('typed', key='event_id', latest_first='_loaded_at', checks=cdp.segment_reject_checks()) }}

)

select * from checked
