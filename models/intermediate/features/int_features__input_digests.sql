{#- One row per customer with events: how many rows of the feature inputs (their events,
    the tickets and order lines behind those events, their devices) the customer has, and the
    sum of those rows' fingerprints (macros/features/input_digests.sql). Two builds' digests
    differ for exactly the customers whose inputs changed (a new, late, corrected or
    re-attributed event, a solved ticket, a new device): the customers incremental feature
    builds compute again or, when all that changed is events added, update from those events
    (macros/features/incremental_features.sql). -#}

-- depends_on: {{ ref('int_features__devices') }}
{{ cdp.feature_input_digests_sql(cdp.feature_inputs().events) }}
