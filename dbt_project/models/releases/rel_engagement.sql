with releases as (
    {{ pending_release() }}
),

engagement as (
    select * from {{ ref('fct_engagement') }}
),

participants as (
    select * from {{ ref('dim_participant') }}
),

-- contacts scheduled by the cut, with what had happened to them by its end
in_release as (
    select
        releases.release_name,
        cast({{ add_days('releases.cut_on', 1) }} as timestamp) as cut_ends_at,
        engagement.*
    from releases
    inner join participants on releases.cut_on >= participants.randomised_on
    inner join engagement
        on
            participants.study_id = engagement.study_id
            and participants.participant_id = engagement.participant_id
            and {{ add_days('participants.randomised_on', '7 * engagement.contact_no') }} <= releases.cut_on
),

final as (
    select
        -- ids
        release_name,
        study_id,
        participant_id,
        contact_no,
        -- contact
        contact_kind,
        is_due,
        -- what happened by the cut
        case when first_delivered_at >= cut_ends_at then false else is_delivered end as is_delivered,
        case when first_opened_at >= cut_ends_at then false else is_opened_by_human end as is_opened_by_human,
        is_launched,
        case when completed_at >= cut_ends_at then false else is_completed end as is_completed,
        case when first_delivered_at < cut_ends_at then first_delivered_at end as first_delivered_at,
        case when first_opened_at < cut_ends_at then first_opened_at end as first_opened_at,
        case when completed_at < cut_ends_at then completed_at end as completed_at,
        delivery_events,
        -- lineage
        source_format,
        source_file_key
    from in_release
)

select * from final
