with participants as (
    select * from {{ ref('dim_participant') }}
),

outcomes as (
    select * from {{ ref('fct_outcomes') }}
),

randomised as (
    select
        study_id,
        'randomised' as flow_stage,
        arm,
        count(*) as n
    from participants
    group by study_id, arm
),

reached as (
    select distinct
        study_id,
        participant_id,
        arm,
        case when timepoint = 'period' then 'HR record' else 'survey ' || timepoint end as flow_stage
    from outcomes
    where analysis_flag and value is not null
),

reached_by_arm as (
    select
        study_id,
        flow_stage,
        arm,
        count(*) as n
    from reached
    group by study_id, flow_stage, arm
),

-- no totals: a total beside a suppressed arm would give it away
final as (
    select
        study_id,
        flow_stage,
        arm,
        {{ disclosed_count('n') }} as n
    from randomised
    union all
    select
        study_id,
        flow_stage,
        arm,
        {{ disclosed_count('n') }} as n
    from reached_by_arm
)

select * from final
