{#- Every block reason is one the identity guards give: the fixed reasons passed in, or
    shared_across_<type> for a type limited to one value per customer (var
    identity_type_limits), so tightening a limit in the config needs no test edit. -#}
{% test known_block_reason(model, column_name, fixed_reasons) %}

{%- set reasons = fixed_reasons | list -%}
{%- for identifier_type, limit in var('identity_type_limits').items() if limit | int == 1 -%}
    {%- do reasons.append('shared_across_' ~ identifier_type) -%}
{%- endfor %}

select {{ column_name }} as block_reason
from {{ model }}
where {{ column_name }} is not null
    and {{ column_name }} not in ({{ cdp.sql_string_list(reasons) }})

{% endtest %}
