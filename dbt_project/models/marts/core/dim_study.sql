with studies as (
    select * from {{ ref('stg_registry__studies') }}
),

primary_outcomes as (
    select * from {{ ref('stg_registry__primary_outcomes') }}
),

participants as (
    select * from {{ ref('stg_allocation__participants') }}
),

randomised as (
    select
        study_id,
        count(*) as participants_randomised,
        min(randomised_on) as first_randomised_on,
        max(randomised_on) as last_randomised_on
    from participants
    group by study_id
),

-- a label for people to read; code reads stg_registry__primary_outcomes' rows
primary_labels as (
    select
        study_id,
        string_agg(outcome_code || '@' || timepoint, ', ' order by outcome_code, timepoint) as primary_outcomes
    from primary_outcomes
    group by study_id
),

final as (
    select
        -- ids
        studies.study_id,
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
        primary_labels.primary_outcomes,
        -- randomisation
        cast(coalesce(randomised.participants_randomised, 0) as integer) as participants_randomised,
        randomised.first_randomised_on,
        randomised.last_randomised_on
    from studies
    left join randomised on studies.study_id = randomised.study_id
    left join primary_labels on studies.study_id = primary_labels.study_id
)

select * from final
