with scored as (
    select * from {{ ref('int_survey_responses_scored') }}
),

participants as (
    select * from {{ ref('stg_allocation__participants') }}
),

timepoints as (
    select * from {{ ref('stg_registry__timepoints') }}
),

withdrawals as (
    select * from {{ ref('int_participant_withdrawals') }}
),

windowed as (
    select
        scored.*,
        participants.randomised_on,
        {{ days_between('participants.randomised_on', 'cast(scored.recorded_at as date)') }} as response_day,
        timepoints.window_start_day,
        timepoints.window_end_day
    from scored
    inner join participants
        on
            scored.study_id = participants.study_id
            and scored.participant_id = participants.participant_id
    inner join timepoints
        on
            scored.study_id = timepoints.study_id
            and scored.timepoint = timepoints.timepoint
    left join withdrawals
        on
            scored.study_id = withdrawals.study_id
            and scored.participant_id = withdrawals.participant_id
    -- a response dated after a follow-up withdrawal is never used
    where
        withdrawals.follow_up_stopped_on is null
        or cast(scored.recorded_at as date) <= withdrawals.follow_up_stopped_on
),

eligibility as (
    select
        *,
        response_day between window_start_day and window_end_day as is_in_window,
        is_complete and response_day between window_start_day and window_end_day as is_eligible
    from windowed
),

flagged as (
    select
        *,
        is_eligible and row_number() over (
            partition by study_id, participant_id, timepoint, is_eligible
            order by recorded_at desc, response_id desc
        ) = 1 as analysis_flag
    from eligibility
),

unpivoted as (
    select
        flagged.*,
        'SWEMWBS' as outcome_code,
        flagged.swemwbs_score as value
    from flagged
    union all
    select
        flagged.*,
        'CBI_WORK' as outcome_code,
        flagged.cbi_work_score as value
    from flagged
    union all
    select
        flagged.*,
        'BELONG' as outcome_code,
        flagged.belong_score as value
    from flagged
    union all
    select
        flagged.*,
        'ITQ' as outcome_code,
        flagged.itq_score as value
    from flagged
),

final as (
    select
        -- ids
        study_id,
        response_id,
        participant_id,
        outcome_code,
        timepoint,
        -- measures
        cast(value as double precision) as value,
        swemwbs_raw,
        -- flags
        is_complete,
        is_in_window,
        analysis_flag,
        response_day,
        recorded_at,
        -- lineage
        source_format,
        source_file_key,
        source_row_number
    from unpivoted
)

select * from final
