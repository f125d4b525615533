{#-
    Labelled examples for the churn and purchase propensity models, one row per customer and
    split: 'training' (features as of training_cutoff_at) and 'holdout' (as of
    holdout_cutoff_at, one window later). Features come from events before the cutoff only;
    labels from purchases in [cutoff, cutoff + window), so every event falls on exactly one
    side of a cutoff and the holdout window ends at reference_at.

    is_known: the customer held a known identifier (anything but anonymous, device,
    advertising and click ids, as in customers.is_anonymous) first seen before the cutoff.
    churn_label: 1 when a customer who had ordered before the cutoff places no order in the
    window, 0 when they do; null for customers who had never ordered (not in that population).
    purchase_label: 1 when the customer orders in the window (every customer).
-#}
{%- set purchase_types = "('order_placed', 'store_purchase')" -%}

{#- Kept as it is when this build does not retrain the models (int_scoring__retraining). -#}
{%- set examples_sql %}
with cutoffs as (

    select * from {{ ref('int_scoring__cutoffs') }}

),

training_features as (

    select * from {{ ref('int_scoring__features_at_training') }}

),

holdout_features as (

    select * from {{ ref('int_scoring__features_at_holdout') }}

),

customer_events as (

    select * from {{ ref('customer_events') }}

),

customer_identifiers as (

    select * from {{ ref('customer_identifiers') }}

),

splits as (

    select
        'training' as split_name,
        training_cutoff_at as cutoff_at,
        {{ dbt.dateadd('day', 'label_window_days', 'training_cutoff_at') }} as window_end_at,
        label_window_days
    from cutoffs
    union all
    select
        'holdout' as split_name,
        holdout_cutoff_at as cutoff_at,
        {{ dbt.dateadd('day', 'label_window_days', 'holdout_cutoff_at') }} as window_end_at,
        label_window_days
    from cutoffs

),

features as (

    select
        'training' as split_name,
        training_features.*
    from training_features
    union all
    select
        'holdout' as split_name,
        holdout_features.*
    from holdout_features

),

window_orders as (

    select
        splits.split_name,
        customer_events.customer_id,
        count(*) as orders_in_window
    from splits
    inner join customer_events
        on splits.cutoff_at <= customer_events.occurred_at
        and splits.window_end_at > customer_events.occurred_at
    where customer_events.event_type in {{ purchase_types }}
        and customer_events.customer_id is not null
    group by splits.split_name, customer_events.customer_id

),

known_customers as (

    select distinct
        splits.split_name,
        customer_identifiers.customer_id
    from splits
    inner join customer_identifiers
        on splits.cutoff_at > customer_identifiers.first_seen_at
    where customer_identifiers.identifier_type not in ('anonymous_id', 'device_id', 'advertising_id', 'click_id')

),

final as (

    select
        features.*,
        splits.cutoff_at,
        splits.window_end_at,
        splits.label_window_days,
        known_customers.customer_id is not null as is_known,
        coalesce(window_orders.orders_in_window, 0) as orders_in_window,
        case
            when features.order_count > 0 and coalesce(window_orders.orders_in_window, 0) = 0 then 1
            when features.order_count > 0 then 0
        end as churn_label,
        case when coalesce(window_orders.orders_in_window, 0) > 0 then 1 else 0 end as purchase_label
    from features
    inner join splits
        on features.split_name = splits.split_name
    left join window_orders
        on features.split_name = window_orders.split_name
        and features.customer_id = window_orders.customer_id
    left join known_customers
        on features.split_name = known_customers.split_name
        and features.customer_id = known_customers.customer_id

)

select * from final
{%- endset %}

{{ cdp.kept_unless_retraining(examples_sql) }}
