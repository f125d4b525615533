{#- The combination of columns is unique across the model's rows (macros/testing/unique_rows.sql). -#}
{% test unique_combination_of_columns(model, columns) %}

{{ cdp.repeated_values(model, columns) }}

{% endtest %}
