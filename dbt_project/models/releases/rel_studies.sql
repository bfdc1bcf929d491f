with releases as (
    {{ pending_release() }}
),

studies as (
    select * from {{ ref('dim_study') }}
),

participants as (
    select * from {{ ref('dim_participant') }}
),

randomised as (
    select
        releases.release_name,
        participants.study_id,
        count(*) as participants_randomised,
        min(participants.randomised_on) as first_randomised_on,
        max(participants.randomised_on) as last_randomised_on
    from releases
    inner join participants on releases.cut_on >= participants.randomised_on
    group by releases.release_name, participants.study_id
),

final as (
    select
        -- ids
        releases.release_name,
        studies.study_id,
        -- release
        releases.cut_on,
        -- design
        studies.title,
        studies.design,
        studies.control_arm,
        studies.intervention_arm,
        studies.allocation_ratio,
        studies.strata,
        studies.cluster_unit,
        studies.hr_period_days,
        studies.scheduled_contacts,
        studies.contact_kind,
        studies.delivery_format,
        studies.primary_outcomes,
        -- randomisation by the cut
        cast(coalesce(randomised.participants_randomised, 0) as integer) as participants_randomised,
        randomised.first_randomised_on,
        randomised.last_randomised_on
    from releases
    cross join studies
    left join randomised
        on
            releases.release_name = randomised.release_name
            and studies.study_id = randomised.study_id
)

select * from final
