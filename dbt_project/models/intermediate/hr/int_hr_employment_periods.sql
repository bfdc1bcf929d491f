with participants as (
    select * from {{ ref('stg_allocation__participants') }}
),

studies as (
    select * from {{ ref('stg_registry__studies') }}
),

snapshots as (
    select * from {{ ref('stg_hr_roster__snapshots') }}
),

leavers as (
    select * from {{ ref('stg_hr_leavers__leavers') }}
),

leaving_reasons as (
    select * from {{ ref('leaving_reasons') }}
),

withdrawals as (
    select * from {{ ref('int_participant_withdrawals') }}
),

-- no roster or leavers record dated after a follow-up withdrawal is used
followed_up as (
    select
        participants.*,
        withdrawals.follow_up_stopped_on
    from participants
    left join withdrawals
        on
            participants.study_id = withdrawals.study_id
            and participants.participant_id = withdrawals.participant_id
),

-- the FTE is the last snapshot on or before day 0, else the first one after it
ranked_snapshots as (
    select
        participants.study_id,
        participants.participant_id,
        snapshots.fte,
        snapshots.hire_date,
        snapshots.source_file_key,
        row_number() over (
            partition by participants.study_id, participants.participant_id
            order by
                snapshots.snapshot_date > participants.randomised_on,
                abs({{ days_between('participants.randomised_on', 'snapshots.snapshot_date') }})
        ) as snapshot_rank
    from followed_up as participants
    inner join snapshots
        on
            participants.study_id = snapshots.study_id
            and participants.employee_pseudonym = snapshots.employee_pseudonym
    where snapshots.snapshot_date <= coalesce(participants.follow_up_stopped_on, snapshots.snapshot_date)
),

baseline_snapshot as (
    select * from ranked_snapshots
    where snapshot_rank = 1
),

periods as (
    select
        participants.study_id,
        participants.participant_id,
        participants.randomised_on as period_start,
        {{ add_days('participants.randomised_on', 'studies.hr_period_days - 1') }} as period_end,
        studies.hr_period_days,
        participants.follow_up_stopped_on,
        baseline_snapshot.fte,
        baseline_snapshot.hire_date,
        baseline_snapshot.source_file_key as roster_file_key,
        baseline_snapshot.participant_id is not null as has_hr_record,
        leavers.termination_date,
        leavers.leaving_reason,
        coalesce(leaving_reasons.is_voluntary, false) as is_voluntary_leaver,
        leavers.source_file_key as leavers_file_key
    from followed_up as participants
    inner join studies on participants.study_id = studies.study_id
    left join baseline_snapshot
        on
            participants.study_id = baseline_snapshot.study_id
            and participants.participant_id = baseline_snapshot.participant_id
    left join leavers
        on
            participants.study_id = leavers.study_id
            and participants.employee_pseudonym = leavers.employee_pseudonym
            and leavers.termination_date <= coalesce(participants.follow_up_stopped_on, leavers.termination_date)
    left join leaving_reasons on leavers.leaving_reason = leaving_reasons.leaving_reason
),

employment as (
    select
        *,
        greatest(period_start, coalesce(hire_date, period_start)) as employed_from,
        least(period_end, coalesce(termination_date, period_end), coalesce(follow_up_stopped_on, period_end))
            as employed_to,
        -- HR outcomes are measured over the whole period: follow-up that stopped inside it leaves them missing
        coalesce(follow_up_stopped_on >= period_end, true) as is_followed_up,
        coalesce(termination_date between period_start and period_end, false) as left_in_period
    from periods
),

final as (
    select
        -- ids
        study_id,
        participant_id,
        -- period
        period_start,
        period_end,
        hr_period_days,
        follow_up_stopped_on,
        is_followed_up,
        -- employment
        has_hr_record,
        fte,
        hire_date,
        termination_date,
        leaving_reason,
        is_voluntary_leaver,
        left_in_period,
        employed_from,
        employed_to,
        case
            when employed_to >= employed_from then {{ days_between('employed_from', 'employed_to') }} + 1
            else 0
        end as days_employed,
        -- lineage
        roster_file_key,
        leavers_file_key
    from employment
)

select * from final
