{#- customer_features as of the holdout cutoff (int_scoring__cutoffs.holdout_cutoff_at), from the events
    before it only: the same macro as the customer_features mart. -#}
{%- set as_of = '(select holdout_cutoff_at from ' ~ ref('int_scoring__cutoffs') ~ ')' -%}

{#- Kept as it is when this build does not retrain the models (int_scoring__retraining). -#}
-- depends_on: {{ ref('int_features__devices') }}
{{ cdp.kept_unless_retraining(cdp.customer_features_as_of(as_of)) }}
