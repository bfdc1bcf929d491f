with participants as (
    select * from {{ ref('dim_participant') }}
),

timepoints as (
    select * from {{ ref('stg_registry__timepoints') }}
),

instruments as (
    select * from {{ ref('stg_registry__instruments') }}
),

survey_scores as (
    select * from {{ ref('int_survey_scores_windowed') }}
    where analysis_flag
),

hr_outcomes as (
    select * from {{ ref('int_hr_outcomes') }}
),

studies as (
    select * from {{ ref('stg_registry__studies') }}
),

-- every randomised participant x instrument x timepoint (intention to treat)
survey_grid as (
    select
        participants.study_id,
        participants.participant_id,
        participants.arm,
        instruments.outcome_code,
        timepoints.timepoint
    from participants
    inner join instruments on participants.study_id = instruments.study_id
    inner join timepoints on participants.study_id = timepoints.study_id
),

survey_outcomes as (
    select
        survey_grid.study_id,
        survey_grid.participant_id,
        survey_grid.arm,
        survey_grid.outcome_code,
        survey_grid.timepoint,
        survey_scores.value,
        baseline.value as baseline_value,
        survey_scores.value is not null as analysis_flag,
        survey_scores.response_day,
        -- the row's own file's format; for a missing response, the format the study's survey comes in
        coalesce(survey_scores.source_format, studies.survey_format) as source_format,
        survey_scores.source_file_key,
        survey_scores.source_row_number
    from survey_grid
    inner join studies on survey_grid.study_id = studies.study_id
    left join survey_scores
        on
            survey_grid.study_id = survey_scores.study_id
            and survey_grid.participant_id = survey_scores.participant_id
            and survey_grid.outcome_code = survey_scores.outcome_code
            and survey_grid.timepoint = survey_scores.timepoint
    left join survey_scores as baseline
        on
            survey_grid.study_id = baseline.study_id
            and survey_grid.participant_id = baseline.participant_id
            and survey_grid.outcome_code = baseline.outcome_code
            and baseline.timepoint = 'baseline'
),

hr_long as (
    {%- set hr_measures = [
        ('ABS_DAYS', 'abs_days', 'absence'), ('ABS_RATE', 'abs_rate', 'absence'),
        ('ABS_SPELLS', 'abs_spells', 'absence'), ('ABS_MH_DAYS', 'abs_mh_days', 'absence'),
        ('BRADFORD', 'bradford', 'absence'), ('LEFT_ANY', 'left_any', 'leavers'),
        ('LEFT_VOL', 'left_vol', 'leavers')] %}
    {%- for code, column, feed in hr_measures %}
        select
            hr_outcomes.study_id,
            hr_outcomes.participant_id,
            participants.arm,
            '{{ code }}' as outcome_code,
            'period' as timepoint,
            case when hr_outcomes.has_hr_record then hr_outcomes.{{ column }} end as value,
            cast(null as double precision) as baseline_value,
            hr_outcomes.has_hr_record and hr_outcomes.{{ column }} is not null as analysis_flag,
            cast(null as integer) as response_day,
            {%- if feed == 'absence' %}
                coalesce(hr_outcomes.absence_source_format, studies.absence_format) as source_format,
            {%- else %}
                studies.leavers_format as source_format,
            {%- endif %}
            hr_outcomes.{{ feed }}_file_key as source_file_key,
            cast(null as bigint) as source_row_number
        from hr_outcomes
        inner join studies on hr_outcomes.study_id = studies.study_id
        inner join participants
            on
                hr_outcomes.study_id = participants.study_id
                and hr_outcomes.participant_id = participants.participant_id
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

combined as (
    select * from survey_outcomes
    union all
    select * from hr_long
),

final as (
    select
        -- ids
        study_id,
        participant_id,
        outcome_code,
        timepoint,
        arm,
        -- measures
        cast(value as double precision) as value,
        cast(baseline_value as double precision) as baseline_value,
        cast(value - baseline_value as double precision) as change_from_baseline,
        -- flags
        analysis_flag,
        cast(response_day as integer) as response_day,
        -- lineage
        source_format,
        source_file_key,
        cast(source_row_number as bigint) as source_row_number
    from combined
)

select * from final
