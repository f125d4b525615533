{%- set change_key = 'id' -%}
{{ config(change_key=change_key) }}

with source as (

    {{ cdp.changed_source_rows(source('segment', 'pages'), change_key) }}

),

typed as (

    select
        {{ cdp.segment_common_columns() }},
        {{ cdp.clean_text('name') }} as page_name,
        {{ cdp.clean_text('path') }} as page_path,
        {{ cdp.clean_text('title') }} as page_title,
        {{ cdp.clean_text('url') }} as page_url,
        {{ cdp.clean_text('referrer') }} as page_referrer,
        {{ cdp.clean_text('search') }} as page_search,
        {{ cdp.click_id_from_url('url') }} as click_id,
        {{ cdp.change_tracking_columns() }}
    from source

),

checked as (

    {{ cdp.check_rows('typed', key='event_id', latest_first='_loaded_at', checks=cdp.segment_reject_checks()) }}

)

select * from checked
