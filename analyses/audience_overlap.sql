-- How far the audiences overlap today: for every pair of audiences, the customers currently in
-- both, as a share of the smaller audience and as Jaccard similarity (shared / either). Pairs
-- with no shared member are listed with zero. Large overlaps between audiences that feed
-- different campaigns mean the same people get both.
with audience_memberships as (

    select * from {{ ref('audience_memberships') }}

),

current_members as (

    select distinct
        audience_name,
        customer_id
    from audience_memberships
    where is_member

),

audience_sizes as (

    select
        audience_name,
        count(*) as members
    from current_members
    group by audience_name

),

audience_pairs as (

    select
        first_audience.audience_name as audience_a,
        second_audience.audience_name as audience_b,
        first_audience.members as members_a,
        second_audience.members as members_b
    from audience_sizes as first_audience
    inner join audience_sizes as second_audience
        on first_audience.audience_name < second_audience.audience_name

),

shared as (

    select
        first_members.audience_name as audience_a,
        second_members.audience_name as audience_b,
        count(*) as shared_members
    from current_members as first_members
    inner join current_members as second_members
        on first_members.customer_id = second_members.customer_id
        and first_members.audience_name < second_members.audience_name
    group by first_members.audience_name, second_members.audience_name

),

final as (

    select
        audience_pairs.audience_a,
        audience_pairs.audience_b,
        audience_pairs.members_a,
        audience_pairs.members_b,
        coalesce(shared.shared_members, 0) as shared_members,
        round(
            cast(coalesce(shared.shared_members, 0) as numeric(18, 6))
            / least(audience_pairs.members_a, audience_pairs.members_b),
            4
        ) as share_of_smaller,
        round(
            cast(coalesce(shared.shared_members, 0) as numeric(18, 6))
            / (audience_pairs.members_a + audience_pairs.members_b - coalesce(shared.shared_members, 0)),
            4
        ) as jaccard
    from audience_pairs
    left join shared
        on audience_pairs.audience_a = shared.audience_a
        and audience_pairs.audience_b = shared.audience_b

)

select * from final
order by audience_a, audience_b
