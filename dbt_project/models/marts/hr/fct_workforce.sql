with periods as (
    select * from {{ ref('int_hr_employment_periods') }}
),

participants as (
    select * from {{ ref('stg_allocation__participants') }}
),

snapshots as (
    select * from {{ ref('stg_hr_roster__snapshots') }}
),

spells as (
    select * from {{ ref('int_absence_spells_clipped') }}
    where is_sickness
),

-- the months the rosters cover, per study
months as (
    select distinct
        snapshots.study_id,
        {{ month_start('snapshots.snapshot_date') }} as month_start,
        {{ month_end('snapshots.snapshot_date') }} as month_end
    from snapshots
    inner join participants
        on
            snapshots.study_id = participants.study_id
            and snapshots.employee_pseudonym = participants.employee_pseudonym
),

in_post as (
    select
        months.study_id,
        months.month_start,
        count(distinct participants.participant_id) as headcount
    from months
    inner join snapshots
        on
            months.study_id = snapshots.study_id
            and snapshots.snapshot_date between months.month_start and months.month_end
    inner join participants
        on
            snapshots.study_id = participants.study_id
            and snapshots.employee_pseudonym = participants.employee_pseudonym
    group by months.study_id, months.month_start
),

-- each participant's employment within each month, for leavers, stability and absence
employment as (
    select
        months.study_id,
        months.month_start,
        months.month_end,
        periods.participant_id,
        periods.fte,
        periods.termination_date,
        periods.is_voluntary_leaver,
        coalesce(periods.termination_date between months.month_start and months.month_end, false) as left_in_month,
        -- CIPD stability: in post a year before the month's end, and still in post at it
        periods.hire_date <= {{ add_days('months.month_end', -365) }}
        and coalesce(periods.termination_date > {{ add_days('months.month_end', -365) }}, true)
            as in_post_a_year_ago,
        coalesce(periods.termination_date > months.month_end, true) as in_post_at_month_end,
        greatest(months.month_start, coalesce(periods.hire_date, months.month_start)) as employed_from,
        least(months.month_end, coalesce(periods.termination_date, months.month_end)) as employed_to
    from months
    inner join periods on months.study_id = periods.study_id
    where periods.has_hr_record
),

available as (
    select
        *,
        case
            when employed_to >= employed_from then {{ days_between('employed_from', 'employed_to') }} + 1
            else 0
        end as days_employed
    from employment
),

sick_days as (
    select
        available.study_id,
        available.month_start,
        sum(
            case
                when
                    least(spells.effective_end_date, available.employed_to)
                    >= greatest(spells.start_date, available.employed_from)
                    then (
                        {{ days_between(
                            'greatest(spells.start_date, available.employed_from)',
                            'least(spells.effective_end_date, available.employed_to)'
                        ) }} + 1
                    ) * available.fte
                else 0
            end
        ) as fte_days_lost
    from available
    inner join spells
        on
            available.study_id = spells.study_id
            and available.participant_id = spells.participant_id
    group by available.study_id, available.month_start
),

monthly as (
    select
        study_id,
        month_start,
        max(month_end) as month_end,
        sum(case when left_in_month then 1 else 0 end) as leavers,
        sum(case when left_in_month and is_voluntary_leaver then 1 else 0 end) as voluntary_leavers,
        sum(case when in_post_a_year_ago then 1 else 0 end) as in_post_a_year_ago,
        sum(case when in_post_a_year_ago and in_post_at_month_end then 1 else 0 end) as stayed_a_year,
        sum(days_employed * fte) as fte_days_available
    from available
    group by study_id, month_start
),

with_headcount as (
    select
        monthly.*,
        in_post.headcount,
        lag(in_post.headcount) over (partition by monthly.study_id order by monthly.month_start)
            as previous_headcount,
        coalesce(sick_days.fte_days_lost, 0) as fte_days_lost
    from monthly
    inner join in_post
        on
            monthly.study_id = in_post.study_id
            and monthly.month_start = in_post.month_start
    left join sick_days
        on
            monthly.study_id = sick_days.study_id
            and monthly.month_start = sick_days.month_start
),

final as (
    select
        -- ids
        study_id,
        month_start,
        month_end,
        -- workforce
        cast(headcount as integer) as headcount,
        cast((headcount + coalesce(previous_headcount, headcount)) / 2.0 as double precision) as average_headcount,
        cast(leavers as integer) as leavers,
        cast(voluntary_leavers as integer) as voluntary_leavers,
        -- CIPD: leavers / average headcount x 100
        cast(100.0 * leavers / ((headcount + coalesce(previous_headcount, headcount)) / 2.0) as double precision)
            as crude_turnover_pct,
        cast(
            100.0 * voluntary_leavers / ((headcount + coalesce(previous_headcount, headcount)) / 2.0)
            as double precision
        ) as voluntary_turnover_pct,
        -- CIPD: staff with a year's service now / staff in post a year ago x 100
        cast(100.0 * stayed_a_year / nullif(in_post_a_year_ago, 0) as double precision) as stability_index_pct,
        -- FTE days lost to sickness / FTE days available x 100
        cast(fte_days_lost as double precision) as fte_days_lost,
        cast(fte_days_available as double precision) as fte_days_available,
        cast(100.0 * fte_days_lost / nullif(fte_days_available, 0) as double precision) as sickness_absence_rate_pct
    from with_headcount
)

select * from final
