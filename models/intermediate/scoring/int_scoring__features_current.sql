{#- customer_features as of int_scoring__cutoffs.reference_at, the moment customer_scores
    scores, from the events before it only: the same macro as the customer_features mart, built
    incrementally the same way. -#}
{{ config(post_hook="{{ cdp.save_applied_feature_digests(this) }}") }}
{%- set as_of = '(select reference_at from ' ~ ref('int_scoring__cutoffs') ~ ')' -%}

-- depends_on: {{ ref('int_features__devices') }}
{{ cdp.incremental_customer_features(as_of) }}
