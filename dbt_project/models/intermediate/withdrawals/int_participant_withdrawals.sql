with register as (
    select * from {{ ref('stg_withdrawals__register') }}
),

levels as (
    select * from {{ ref('withdrawal_levels') }}
),

ranked as (
    select
        register.*,
        levels.level_rank,
        row_number() over (
            partition by register.study_id, register.participant_id
            order by levels.level_rank desc
        ) as level_order
    from register
    inner join levels on register.withdrawal_level = levels.level
),

-- every level stops the intervention; follow_up and data stop follow-up too (docs/instruments.md)
per_participant as (
    select
        study_id,
        participant_id,
        min(withdrawn_on) as intervention_stopped_on,
        min(case when level_rank >= 2 then withdrawn_on end) as follow_up_stopped_on,
        max(ingested_at) as ingested_at
    from ranked
    group by study_id, participant_id
),

final as (
    select
        -- ids
        per_participant.study_id,
        per_participant.participant_id,
        -- withdrawal: the highest level reached, and when each thing stopped
        ranked.withdrawal_level,
        ranked.withdrawn_on,
        ranked.reason_code as withdrawal_reason,
        per_participant.intervention_stopped_on,
        per_participant.follow_up_stopped_on,
        -- lineage
        ranked.source_file_key,
        per_participant.ingested_at
    from per_participant
    inner join ranked
        on
            per_participant.study_id = ranked.study_id
            and per_participant.participant_id = ranked.participant_id
            and ranked.level_order = 1
)

select * from final
