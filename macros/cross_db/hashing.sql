{#- Lowercase hex SHA-256 of a text expression (ad platforms' hashed identifiers). -#}
{% macro sha256_hex(expression) %}
    {{ return(adapter.dispatch('sha256_hex', 'cdp')(expression)) }}
{% endmacro %}

{% macro default__sha256_hex(expression) -%}
    sha256({{ expression }})
{%- endmacro %}

{% macro postgres__sha256_hex(expression) -%}
    encode(sha256(convert_to({{ expression }}, 'UTF8')), 'hex')
{%- endmacro %}

{#- A stable positive 60-bit integer from a text expression: the first 15 hex digits of its
    MD5, the same number on every engine and in every build (identity graph node ids). A
    collision would make two identifiers one node; the unique test on the ids reports it. -#}
{% macro stable_bigint_id(expression) %}
    {{ return(adapter.dispatch('stable_bigint_id', 'cdp')(expression)) }}
{% endmacro %}

{% macro default__stable_bigint_id(expression) -%}
    cast(('0x' || substr(md5({{ expression }}), 1, 15)) as bigint)
{%- endmacro %}

{% macro postgres__stable_bigint_id(expression) -%}
    cast(cast('x' || lpad(substr(md5({{ expression }}), 1, 15), 16, '0') as bit(64)) as bigint)
{%- endmacro %}

{#- A fingerprint of the SQL an incremental model runs, stored beside it: a build whose SQL
    differs (code, vars, sources switched on) computes everything again. The database's own name
    is left out of it, so that a warehouse copied or renamed (DuckDB names the database after
    its file) keeps its incremental state. -#}
{% macro sql_signature(sql) %}
    {{ return(local_md5(sql | replace('"' ~ target.database ~ '".', ''))) }}
{% endmacro %}
