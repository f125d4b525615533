{#-
    Fellegi-Sunter comparisons over the canonical person attributes.

    Each comparison lists its levels from strongest to weakest as [label, condition] over
    the pair's profiles `l` and `r`; `similarity` in a condition stands for the comparison's
    similarity expression, computed once per pair. A pair lands in the first level whose condition holds,
    in the null level (gamma -1, weight 0) when either side lacks the value, and in the
    "else" level (gamma 0) otherwise. Level i of n (1-based, strongest first) has gamma
    n - i + 1, so a higher gamma is always a stronger agreement.
    tf: the exact level's u-probability is replaced by the value's frequency (a rare
    surname agreeing counts for more than a common one).
    implied_when (optional): when this holds the comparison says nothing new and weighs
    nothing, like a null (for columns that another comparison determines). Two different
    emails whose local parts are both spelt from their owners' names (john.smith@a,
    johnsmith@b) say no more than the names do: counted as well, they would let every pair of
    namesakes with such addresses outweigh any doubt.
-#}
{% macro matching_comparison_definitions() %}
    {%- set jw = cdp.jaro_winkler -%}
    {%- set lev = cdp.levenshtein -%}
    {{ return({
        'first_name': {'tf': true, 'similarity': jw('l.first_name', 'r.first_name'), 'levels': [
            ['exact', 'l.first_name = r.first_name'],
            ['nickname', 'l.first_name_formal = r.first_name_formal'],
            ['jaro_winkler_92', 'similarity >= 0.92'],
            ['swapped_with_last_name', 'l.first_name = r.last_name or l.last_name = r.first_name'],
            ['jaro_winkler_80', 'similarity >= 0.80'],
        ]},
        'last_name': {'tf': true, 'similarity': jw('l.last_name', 'r.last_name'), 'levels': [
            ['exact', 'l.last_name = r.last_name'],
            ['jaro_winkler_92', 'similarity >= 0.92'],
            ['swapped_with_first_name', 'l.last_name = r.first_name or l.first_name = r.last_name'],
            ['jaro_winkler_80', 'similarity >= 0.80'],
        ]},
        'birth_date': {'tf': false, 'similarity': lev('l.birth_date', 'r.birth_date'), 'levels': [
            ['exact', 'l.birth_date = r.birth_date'],
            ['levenshtein_1', 'similarity <= 1'],
            ['levenshtein_2', 'similarity <= 2'],
            ['within_1_year', 'abs(' ~ dbt.datediff('l.birth_day', 'r.birth_day', 'day') ~ ') <= 366'],
        ]},
        'address_line': {'tf': false, 'similarity': lev('l.address_line', 'r.address_line'), 'levels': [
            ['exact', 'l.address_line = r.address_line'],
            ['levenshtein_2', 'similarity <= 2'],
            ['one_contains_other', 'strpos(l.address_line, r.address_line) > 0 or strpos(r.address_line, l.address_line) > 0'],
            ['levenshtein_5', 'similarity <= 5'],
        ]},
        'city': {'tf': false, 'similarity': jw('l.city', 'r.city'), 'levels': [
            ['exact', 'l.city = r.city'],
            ['jaro_winkler_88', 'similarity >= 0.88'],
        ]},
        'postcode': {'tf': false, 'similarity': lev('l.postcode', 'r.postcode'), 'levels': [
            ['exact', 'l.postcode = r.postcode'],
            ['levenshtein_1', 'similarity <= 1'],
            ['levenshtein_2', 'similarity <= 2'],
            ['same_prefix', 'substr(l.postcode, 1, 3) = substr(r.postcode, 1, 3)'],
        ]},
        'phone': {'tf': false, 'similarity': lev('l.phone', 'r.phone'), 'levels': [
            ['exact', 'l.phone = r.phone'],
            ['same_last_7', 'l.phone_last7 = r.phone_last7'],
            ['levenshtein_2', 'similarity <= 2'],
        ]},
        'email': {'tf': false, 'similarity': jw('l.email', 'r.email'),
                  'implied_when': 'l.email <> r.email and l.email_from_name and r.email_from_name', 'levels': [
            ['exact', 'l.email = r.email'],
            ['same_local_part', 'l.email_local = r.email_local'],
            ['jaro_winkler_88', 'similarity >= 0.88'],
        ]},
    }) }}
{% endmacro %}

{#- The comparisons in use: var matching_columns, in that order. -#}
{% macro matching_comparisons() %}
    {%- set definitions = cdp.matching_comparison_definitions() -%}
    {%- set selected = [] -%}
    {%- for column in var('matching_columns') -%}
        {%- if column not in definitions -%}
            {{ exceptions.raise_compiler_error(
                "dbt_project.yml vars: matching_columns lists '" ~ column ~ "', which has no comparison; known: "
                ~ (definitions.keys() | list | join(', '))) }}
        {%- endif -%}
        {%- do selected.append({'name': column, 'tf': definitions[column].tf,
                                'similarity': definitions[column].similarity, 'levels': definitions[column].levels,
                                'implied_when': definitions[column].get('implied_when')}) -%}
    {%- endfor -%}
    {{ return(selected) }}
{% endmacro %}

{#-
    Similarity per comparison, computed once per distinct pair of values (string similarity
    is the costly part of comparing, above all on Postgres, and names and cities repeat).
    `pairs` is a CTE with <comparison>_l and <comparison>_r columns; this emits one CTE
    sim_<comparison> (value_l, value_r, similarity) per comparison, each followed by a comma.
-#}
{% macro similarity_ctes(pairs, comparisons) -%}
    {%- for comparison in comparisons if cdp.memoise_similarity() %}
sim_{{ comparison.name }} as {{ cdp.materialized_cte() }} (

    select
        value_l,
        value_r,
        {{ comparison.similarity
            | replace('l.' ~ comparison.name, 'value_l') | replace('r.' ~ comparison.name, 'value_r') }} as similarity
    from (
        select distinct
            {{ comparison.name }}_l as value_l,
            {{ comparison.name }}_r as value_r
        from {{ pairs }}
        where {{ comparison.name }}_l is not null and {{ comparison.name }}_r is not null
    ) as distinct_values

),
    {% endfor -%}
{%- endmacro %}

{#- Joins of the similarity CTEs onto `pairs` (for the final select of a model). -#}
{% macro similarity_joins(pairs, comparisons) -%}
    {%- for comparison in comparisons if cdp.memoise_similarity() %}
    left join sim_{{ comparison.name }}
        on {{ pairs }}.{{ comparison.name }}_l = sim_{{ comparison.name }}.value_l
        and {{ pairs }}.{{ comparison.name }}_r = sim_{{ comparison.name }}.value_r
    {%- endfor %}
{%- endmacro %}

{#- Select-list entries carrying each compared value of both profiles: <comparison>_l/_r. -#}
{% macro pair_values(comparisons) -%}
    {%- for comparison in comparisons %}
        l.{{ comparison.name }} as {{ comparison.name }}_l,
        r.{{ comparison.name }} as {{ comparison.name }}_r{% if not loop.last %},{% endif %}
    {%- endfor %}
{%- endmacro %}

{#- gamma of a comparison for the pair (l, r): `similarity` in its levels reads the
    comparison's similarity CTE sim_<comparison> when memoised, else the expression itself. -#}
{% macro comparison_gamma(comparison, memoised=true) -%}
    case
        when l.{{ comparison.name }} is null or r.{{ comparison.name }} is null then -1
        {%- if comparison.implied_when %}
        when {{ comparison.implied_when }} then -1
        {%- endif %}
        {%- for label, condition in comparison.levels %}
        when {{ condition | replace('similarity', ('sim_' ~ comparison.name ~ '.similarity') if memoised
                                                else '(' ~ comparison.similarity ~ ')') }}
            then {{ comparison.levels | length - loop.index0 }}
        {%- endfor %}
        else 0
    end
{%- endmacro %}

{#- Which canonical column a blocking key is derived from. -#}
{% macro blocking_key_source(key) -%}
    {{ return({
        'first_initial': 'first_name', 'last_name_prefix': 'last_name', 'birth_year': 'birth_date',
        'email_local': 'email', 'phone_last7': 'phone', 'street_number': 'address_line',
        'first_name_formal': 'first_name',
    }.get(key, key)) }}
{%- endmacro %}

{#- The blocking rules whose columns are all available (var matching_columns). -#}
{% macro matching_blocking_rules() %}
    {%- set rules = [] -%}
    {%- for rule in var('matching_blocking_rules') -%}
        {%- set usable = namespace(ok=true) -%}
        {%- for key in rule -%}
            {%- if cdp.blocking_key_source(key) not in var('matching_columns') -%}
                {%- set usable.ok = false -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if usable.ok -%}
            {%- do rules.append(rule) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(rules) }}
{% endmacro %}

{#- SQL condition (over a relation with gamma_first_name) that the first names agree at least
    at level var matching_min_first_name_level, or that either is missing; true when the
    guard is off or first names are not compared. -#}
{% macro first_name_guard(relation) -%}
    {%- set level = var('matching_min_first_name_level', none) -%}
    {%- set comparisons = cdp.matching_comparisons() | selectattr('name', 'equalto', 'first_name') | list -%}
    {%- if level is none or not comparisons -%}
        true
    {%- else -%}
        {%- set labels = comparisons[0].levels | map(attribute=0) | list -%}
        {%- if level not in labels -%}
            {{ exceptions.raise_compiler_error("dbt_project.yml vars: matching_min_first_name_level '" ~ level
                ~ "' is not a first_name level; choose one of " ~ labels | join(', ')) }}
        {%- endif -%}
        ({{ relation }}.gamma_first_name < 0 or {{ relation }}.gamma_first_name >= {{ labels | length - labels.index(level) }})
    {%- endif -%}
{%- endmacro %}

{#- Whether string similarities are worth computing once per distinct pair of values rather
    than per pair: on Postgres the similarity functions are plpgsql and slow, and names repeat;
    DuckDB's are native and the dedupe costs more than it saves. -#}
{% macro memoise_similarity() %}
    {{ return(adapter.dispatch('memoise_similarity', 'cdp')()) }}
{% endmacro %}

{% macro default__memoise_similarity() %}
    {{ return(true) }}
{% endmacro %}

{% macro duckdb__memoise_similarity() %}
    {{ return(false) }}
{% endmacro %}


{#- Whether an email's local part is only its owner's name spelt out (letters alone: first
    and last name in either order, an initial with the other name, or one name), so that two
    such emails agree or differ exactly as the names do. False without an email or a name. -#}
{% macro email_from_name(email, first_name, last_name) -%}
    {%- set local = cdp.regex_replace_all("split_part(" ~ email ~ ", '@', 1)", '[^a-z]') -%}
    {%- set first = cdp.regex_replace_all(first_name, '[^a-z]') -%}
    {%- set last = cdp.regex_replace_all(last_name, '[^a-z]') -%}
    coalesce({{ local }} in (
        {{ first }} || {{ last }},
        {{ last }} || {{ first }},
        substr({{ first }}, 1, 1) || {{ last }},
        {{ first }} || substr({{ last }}, 1, 1),
        {{ first }},
        {{ last }}
    ), false)
{%- endmacro %}
