with participants as (
    select * from {{ ref('dim_participant') }}
),

outcomes as (
    select * from {{ ref('fct_outcomes') }}
),

erasures as (
    select * from {{ ref('stg_ledger__erasures') }}
),

-- everyone randomised, those since erased included: they were randomised, they are not analysed
randomised as (
    select
        study_id,
        'randomised' as flow_stage,
        arm,
        sum(n) as n
    from (
        select
            study_id,
            arm,
            count(*) as n
        from participants
        group by study_id, arm
        union all
        select
            study_id,
            arm,
            participants_erased as n
        from erasures
    ) as everyone
    group by study_id, arm
),

-- withdrawn by the highest level reached (docs/instruments.md); a level no one reached shows 0
withdrawn as (
    select
        participants.study_id,
        'withdrew: ' || participants.withdrawal_level as flow_stage,
        participants.arm,
        count(*) as n
    from participants
    where participants.withdrawal_level in ('intervention', 'follow_up')
    group by participants.study_id, participants.withdrawal_level, participants.arm
    union all
    select
        study_id,
        'withdrew: data' as flow_stage,
        arm,
        participants_erased as n
    from erasures
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
    union all
    select
        study_id,
        flow_stage,
        arm,
        {{ disclosed_count('n') }} as n
    from withdrawn
)

select * from final
