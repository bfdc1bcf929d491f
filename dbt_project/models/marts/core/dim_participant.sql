with participants as (
    select * from {{ ref('stg_allocation__participants') }}
),

studies as (
    select * from {{ ref('stg_registry__studies') }}
),

periods as (
    select * from {{ ref('int_hr_employment_periods') }}
),

withdrawals as (
    select * from {{ ref('int_participant_withdrawals') }}
),

baseline_scores as (
    select
        study_id,
        participant_id,
        max(case when outcome_code = 'SWEMWBS' then value end) as baseline_swemwbs,
        max(case when outcome_code = 'CBI_WORK' then value end) as baseline_cbi_work
    from {{ ref('int_survey_scores_windowed') }}
    where timepoint = 'baseline' and analysis_flag
    group by study_id, participant_id
),

final as (
    select
        -- ids
        participants.study_id,
        participants.participant_id,
        -- randomisation
        participants.arm,
        participants.arm = studies.intervention_arm as is_intervention,
        participants.randomised_on,
        participants.stratum,
        participants.cluster_id,
        -- baseline covariates
        periods.fte as baseline_fte,
        {{ days_between('periods.hire_date', 'participants.randomised_on') }} as tenure_days_at_randomisation,
        baseline_scores.baseline_swemwbs,
        baseline_scores.baseline_cbi_work,
        -- population flags
        true as itt_flag,
        baseline_scores.participant_id is not null as has_baseline_survey,
        coalesce(periods.has_hr_record, false) as has_hr_record,
        -- withdrawal (docs/instruments.md): the highest level reached, and what it stopped
        withdrawals.withdrawal_level,
        withdrawals.withdrawn_on,
        withdrawals.intervention_stopped_on,
        withdrawals.follow_up_stopped_on,
        -- lineage
        participants.source_file_key,
        participants.source_row_number
    from participants
    inner join studies on participants.study_id = studies.study_id
    left join periods
        on
            participants.study_id = periods.study_id
            and participants.participant_id = periods.participant_id
    left join baseline_scores
        on
            participants.study_id = baseline_scores.study_id
            and participants.participant_id = baseline_scores.participant_id
    left join withdrawals
        on
            participants.study_id = withdrawals.study_id
            and participants.participant_id = withdrawals.participant_id
)

select * from final
