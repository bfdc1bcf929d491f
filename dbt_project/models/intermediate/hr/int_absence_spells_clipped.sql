with hris_absences as (
    select * from {{ ref('stg_hris__absences') }}
),

esr_absences as (
    select * from {{ ref('stg_esr__absences') }}
),

participants as (
    select * from {{ ref('stg_allocation__participants') }}
),

periods as (
    select * from {{ ref('int_hr_employment_periods') }}
),

-- both absence formats are staged to the same columns
absences as (
    select * from hris_absences
    union all
    select * from esr_absences
),

linked as (
    select
        participants.study_id,
        participants.participant_id,
        absences.absence_type,
        absences.start_date,
        absences.end_date,
        absences.absence_reason,
        absences.is_sickness,
        absences.is_mental_health,
        absences.partner_quantity,
        absences.partner_unit,
        absences.extract_date,
        absences.source_format,
        absences.source_file_key,
        absences.source_row_number,
        absences.ingested_at,
        -- an open spell ends at the extract date of the newest extract that holds it
        coalesce(absences.end_date, absences.extract_date) as effective_end_date
    from absences
    inner join participants
        on
            absences.study_id = participants.study_id
            and absences.employee_pseudonym = participants.employee_pseudonym
),

clipped as (
    select
        linked.*,
        periods.period_start,
        periods.period_end,
        greatest(linked.start_date, periods.employed_from) as clipped_from,
        least(linked.effective_end_date, periods.employed_to) as clipped_to,
        -- after a follow-up withdrawal, a spell's days end there
        least(
            linked.effective_end_date, coalesce(periods.follow_up_stopped_on, linked.effective_end_date)
        ) as followed_end_date,
        linked.start_date between periods.period_start and periods.period_end as starts_in_period
    from linked
    inner join periods
        on
            linked.study_id = periods.study_id
            and linked.participant_id = periods.participant_id
    -- an absence starting after a follow-up withdrawal is never used
    where linked.start_date <= coalesce(periods.follow_up_stopped_on, linked.start_date)
),

final as (
    select
        -- ids
        study_id,
        participant_id,
        absence_type,
        start_date,
        -- spell
        end_date,
        followed_end_date as effective_end_date,
        end_date is null as is_ongoing,
        absence_reason,
        is_sickness,
        is_mental_health,
        starts_in_period,
        -- the partner's own figure, a plausibility check only
        partner_quantity,
        partner_unit,
        {{ days_between('start_date', 'followed_end_date') }} + 1 as calendar_days,
        -- days in the outcome period, calendar days, both ends inclusive
        case
            when clipped_to >= clipped_from then {{ days_between('clipped_from', 'clipped_to') }} + 1
            else 0
        end as days_in_period,
        -- lineage
        source_format,
        source_file_key,
        source_row_number,
        ingested_at
    from clipped
)

select * from final
