{#- customer_features as of int_scoring__cutoffs.reference_at, the moment customer_scores
    scores, from the events before it only: the same macro as the customer_features mart. -#}
{%- set as_of = '(select reference_at from ' ~ ref('int_scoring__cutoffs') ~ ')' -%}

{{ cdp.customer_features_as_of(as_of) }}
