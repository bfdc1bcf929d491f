with releases as (
    {{ pending_release() }}
),

outcomes as (
    select * from {{ ref('fct_outcomes') }}
),

participants as (
    select * from {{ ref('dim_participant') }}
),

studies as (
    select * from {{ ref('dim_study') }}
),

-- the day each record is dated: a survey response's day; an HR period's last day
dated as (
    select
        releases.release_name,
        releases.cut_on,
        outcomes.*,
        case
            when outcomes.timepoint = 'period'
                then {{ add_days('participants.randomised_on', 'studies.hr_period_days - 1') }}
            else {{ add_days('participants.randomised_on', 'outcomes.response_day') }}
        end as dated_on
    from releases
    inner join participants on releases.cut_on >= participants.randomised_on
    inner join outcomes
        on
            participants.study_id = outcomes.study_id
            and participants.participant_id = outcomes.participant_id
    inner join studies on outcomes.study_id = studies.study_id
),

-- a record dated after the cut is not in the release: missing, as if not yet sent
final as (
    select
        -- ids
        release_name,
        study_id,
        participant_id,
        outcome_code,
        timepoint,
        arm,
        -- measures
        case when dated_on <= cut_on then value end as value,
        baseline_value,
        case when dated_on <= cut_on then change_from_baseline end as change_from_baseline,
        -- flags
        coalesce(analysis_flag and dated_on <= cut_on, false) as analysis_flag,
        case when dated_on <= cut_on then response_day end as response_day,
        -- lineage
        source_format,
        case when dated_on <= cut_on then source_file_key end as source_file_key,
        case when dated_on <= cut_on then source_row_number end as source_row_number
    from dated
)

select * from final
