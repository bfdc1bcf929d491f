with releases as (
    {{ pending_release() }}
),

participants as (
    select * from {{ ref('dim_participant') }}
),

-- randomised by the cut; a withdrawal after it had not happened yet
final as (
    select
        -- ids
        releases.release_name,
        participants.study_id,
        participants.participant_id,
        -- allocation
        participants.arm,
        participants.is_intervention,
        participants.randomised_on,
        participants.stratum,
        participants.cluster_id,
        -- baseline
        participants.baseline_fte,
        participants.tenure_days_at_randomisation,
        participants.baseline_swemwbs,
        participants.baseline_cbi_work,
        -- flags
        participants.itt_flag,
        participants.has_baseline_survey,
        participants.has_hr_record,
        -- withdrawal, as it stood on the cut
        case
            when participants.withdrawn_on <= releases.cut_on then participants.withdrawal_level
            when participants.follow_up_stopped_on <= releases.cut_on then 'follow_up'
            when participants.intervention_stopped_on <= releases.cut_on then 'intervention'
        end as withdrawal_level,
        case
            when participants.withdrawn_on <= releases.cut_on then participants.withdrawn_on
            when participants.follow_up_stopped_on <= releases.cut_on then participants.follow_up_stopped_on
            when participants.intervention_stopped_on <= releases.cut_on then participants.intervention_stopped_on
        end as withdrawn_on,
        case
            when participants.intervention_stopped_on <= releases.cut_on then participants.intervention_stopped_on
        end as intervention_stopped_on,
        case
            when participants.follow_up_stopped_on <= releases.cut_on then participants.follow_up_stopped_on
        end as follow_up_stopped_on,
        -- lineage
        participants.source_file_key,
        participants.source_row_number
    from releases
    inner join participants on releases.cut_on >= participants.randomised_on
)

select * from final
