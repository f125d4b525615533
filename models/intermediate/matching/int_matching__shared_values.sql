{#- Emails and phones that do not identify one person, found on the person records
    themselves: placeholders in the blocklist seed, values written under more distinct
    surnames than var identity_max_people_per_value (typed by many people), and values whose
    records carry first names too different to be one person, nicknames and typos aside
    (a family inbox, a household landline). They link nothing, in matching or in the graph.
    Besides the phone and email the matcher compares, a person record's other values
    (`other_values` of its person source: a CRM contact's landline next to its mobile, a
    ticket's help-desk requester account, which a household may share) are observed under the
    record's names too. Household inboxes are found by their spelling as well: an email whose
    local part, digits and punctuation aside, is one of its own surnames with a word of var
    identity_household_email_words (smithfamily@, thesmiths@), so that it links nothing even
    where the second member only types it on receipts that carry no name. -#}
{%- set household_words = var('identity_household_email_words') -%}
{%- set other_values = [] -%}
{%- if not var('matching_input_relation') -%}
    {%- for entry in cdp.enabled_entries(cdp.matching_person_sources()) -%}
        {%- for identifier_type, column in entry.get('other_values', []) -%}
            {%- do other_values.append({
                'source_table': entry.source_table, 'record_id': entry.record_id, 'model': entry.model,
                'identifier_type': identifier_type,
                'value': cdp.normalise_phone(column) if identifier_type == 'phone'
                    else cdp.email_key(column) if identifier_type == 'email'
                    else 'cast(' ~ column ~ ' as ' ~ dbt.type_string() ~ ')'}) -%}
        {%- endfor -%}
    {%- endfor -%}
{%- endif %}

with record_profiles as {{ cdp.inlined_cte() }} (

    select * from {{ ref('int_matching__record_profiles') }}

),

nicknames as (

    select * from {{ ref('nicknames') }}

),

blocklist as (

    select * from {{ ref('identity_blocklist') }}

),

{{ cdp.import_ctes(other_values | map(attribute='model')) }}

other_values as (

    {%- for other in other_values %}
        select
            '{{ other.source_table }}' as source_table,
            cast({{ other.record_id }} as {{ dbt.type_string() }}) as record_id,
            '{{ other.identifier_type }}' as identifier_type,
            {{ other.value }} as identifier_value
        from {{ other.model }}
        {% if not loop.last %}union all{% endif %}
    {%- else %}
        {{ cdp.empty_select([
            ['source_table', dbt.type_string()],
            ['record_id', dbt.type_string()],
            ['identifier_type', dbt.type_string()],
            ['identifier_value', dbt.type_string()],
        ]) }}
    {%- endfor %}

),

observations as (

    select
        'email' as identifier_type,
        email as identifier_value,
        first_name,
        last_name
    from record_profiles
    where email is not null

    union all

    select
        'phone' as identifier_type,
        phone as identifier_value,
        first_name,
        last_name
    from record_profiles
    where phone is not null

    union all

    select
        other_values.identifier_type,
        other_values.identifier_value,
        record_profiles.first_name,
        record_profiles.last_name
    from other_values
    inner join record_profiles
        on other_values.source_table = record_profiles.source_table
        and other_values.record_id = record_profiles.record_id
    where other_values.identifier_value is not null

),

named as (

    select
        observations.identifier_type,
        observations.identifier_value,
        observations.last_name,
        coalesce(nicknames.formal_name, observations.first_name) as first_name_formal
    from observations
    left join nicknames
        on observations.first_name = nicknames.nickname

),

household_emails as (

    select distinct
        identifier_type,
        identifier_value
    from (
        select
            identifier_type,
            identifier_value,
            {{ cdp.regex_replace_all("split_part(identifier_value, '@', 1)", '[^a-z]') }} as local_letters,
            {{ cdp.regex_replace_all('last_name', '[^a-z]') }} as surname_letters
        from named
        where identifier_type = 'email' and last_name is not null
    ) as spelt
    where surname_letters <> ''
        and (local_letters = 'the' || surname_letters || 's'
        {%- for word in household_words %}
            or local_letters = surname_letters || '{{ word }}'
            or local_letters = '{{ word }}' || surname_letters
        {%- endfor %})

),

surnames as (

    select
        identifier_type,
        identifier_value,
        count(distinct last_name) as distinct_last_names
    from named
    group by identifier_type, identifier_value

),

first_names as (

    select distinct
        identifier_type,
        identifier_value,
        first_name_formal
    from named
    where first_name_formal is not null

),

multiple_first_names as (

    select
        identifier_type,
        identifier_value
    from first_names
    group by identifier_type, identifier_value
    having count(*) > 1

),

conflicts as (

    select
        a.identifier_type,
        a.identifier_value,
        count(*) as conflicting_name_pairs
    from first_names as a
    inner join multiple_first_names
        on a.identifier_type = multiple_first_names.identifier_type
        and a.identifier_value = multiple_first_names.identifier_value
    inner join first_names as b
        on a.identifier_type = b.identifier_type
        and a.identifier_value = b.identifier_value
        and a.first_name_formal < b.first_name_formal
    where {{ cdp.jaro_winkler('a.first_name_formal', 'b.first_name_formal') }}
        < {{ var('identity_conflicting_name_similarity') }}
    group by a.identifier_type, a.identifier_value

),

flagged as (

    select
        surnames.identifier_type,
        surnames.identifier_value,
        surnames.distinct_last_names,
        coalesce(conflicts.conflicting_name_pairs, 0) as conflicting_name_pairs,
        case
            when surnames.distinct_last_names > {{ var('identity_max_people_per_value') }} then 'too_many_people'
            when conflicts.conflicting_name_pairs > 0 then 'shared_by_people'
            when household_emails.identifier_value is not null then 'household_email'
        end as block_reason
    from surnames
    left join conflicts
        on surnames.identifier_type = conflicts.identifier_type
        and surnames.identifier_value = conflicts.identifier_value
    left join household_emails
        on surnames.identifier_type = household_emails.identifier_type
        and surnames.identifier_value = household_emails.identifier_value

),

blocked as (

    select * from flagged
    where block_reason is not null

),

listed as (

    select * from blocklist
    where identifier_type in ('email', 'phone')

),

final as (

    select
        coalesce(listed.identifier_type, blocked.identifier_type) as identifier_type,
        coalesce(listed.identifier_value, blocked.identifier_value) as identifier_value,
        blocked.distinct_last_names,
        blocked.conflicting_name_pairs,
        case when listed.identifier_value is not null then 'blocklist' else blocked.block_reason end
            as block_reason
    from blocked
    full outer join listed
        on blocked.identifier_type = listed.identifier_type
        and blocked.identifier_value = listed.identifier_value

)

select * from final
