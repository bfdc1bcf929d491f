{%- set swemwbs = ['swemwbs_1', 'swemwbs_2', 'swemwbs_3', 'swemwbs_4', 'swemwbs_5', 'swemwbs_6', 'swemwbs_7'] -%}
{%- set belong = ['belong_1', 'belong_2', 'belong_3'] -%}
{%- set itq = ['itq_1', 'itq_2', 'itq_3'] -%}
{#- CBI item values 0-100: code 1 = 0 ... code 5 = 100; item 7 is reverse-scored. -#}
{%- set cbi = ['(cbi_work_1 - 1) * 25', '(cbi_work_2 - 1) * 25', '(cbi_work_3 - 1) * 25',
               '(cbi_work_4 - 1) * 25', '(cbi_work_5 - 1) * 25', '(cbi_work_6 - 1) * 25',
               '(5 - cbi_work_7) * 25'] -%}

with qualtrics_responses as (
    select * from {{ ref('stg_qualtrics__responses') }}
),

redcap_responses as (
    select * from {{ ref('stg_redcap__responses') }}
),

participants as (
    select * from {{ ref('stg_allocation__participants') }}
),

timepoints as (
    select * from {{ ref('stg_registry__timepoints') }}
),

swemwbs_conversion as (
    select * from {{ ref('swemwbs_conversion') }}
),

-- both survey formats are staged to the same columns
responses as (
    select * from qualtrics_responses
    union all
    select * from redcap_responses
),

real_responses as (
    select * from responses
    where is_real_response
),

scored as (
    select
        *,
        case
            when {{ count_answered(swemwbs) }} = 7 then {{ sum_answered(swemwbs) }}
        end as swemwbs_raw,
        case
            when {{ count_answered(cbi) }} >= 4
                then cast({{ sum_answered(cbi) }} as double precision) / {{ count_answered(cbi) }}
        end as cbi_work_score,
        case
            when {{ count_answered(belong) }} >= 2
                then cast({{ sum_answered(belong) }} as double precision) / {{ count_answered(belong) }}
        end as belong_score,
        case
            when {{ count_answered(itq) }} >= 2
                then cast({{ sum_answered(itq) }} as double precision) / {{ count_answered(itq) }}
        end as itq_score
    from real_responses
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
        swemwbs_conversion.metric_score as value
    from flagged
    left join swemwbs_conversion on flagged.swemwbs_raw = swemwbs_conversion.raw_score
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
