{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['study_id', 'participant_id', 'contact_no'],
        on_schema_change='fail',
    )
}}

with events as not materialized (
    select * from {{ ref('int_delivery_events_linked') }}
),

participants as (
    select * from {{ ref('dim_participant') }}
),

studies as (
    select * from {{ ref('dim_study') }}
),

withdrawals as (
    select * from {{ ref('int_participant_withdrawals') }}
),

-- a contact with an event newer than the last build is rebuilt; a participant new to the
-- allocation, or newly withdrawn, has all their contacts built
changed_contacts as (
    select distinct
        study_id,
        participant_id,
        contact_no
    from events
    {% if is_incremental() %}
        where ingested_at > (select coalesce(max(built.refreshed_through), cast('1900-01-01' as timestamp)) from {{ this }} as built)
    {% endif %}
),

new_participants as (
    select
        study_id,
        participant_id
    from participants
    where
        is_intervention
    {% if is_incremental() %}
            and (
                not exists (
                    select 1 from {{ this }} as built
                    where
                        built.study_id = participants.study_id
                        and built.participant_id = participants.participant_id
                )
                or exists (
                    select 1 from withdrawals
                    where
                        withdrawals.study_id = participants.study_id
                        and withdrawals.participant_id = participants.participant_id
                        and withdrawals.ingested_at > (
                            select coalesce(max(built.refreshed_through), cast('1900-01-01' as timestamp))
                            from {{ this }} as built
                        )
                )
            )
    {% endif %}
),

contact_numbers as (
    select cast(generate_series as integer) as contact_no
    from generate_series(1, 52)
),

scheduled as (
    select
        participants.study_id,
        participants.participant_id,
        studies.contact_kind,
        studies.delivery_format,
        contact_numbers.contact_no,
        -- week k's contact is on day 7k; one after the participant stopped the intervention is not due
        coalesce(
            {{ add_days('participants.randomised_on', '7 * contact_numbers.contact_no') }}
            <= participants.intervention_stopped_on,
            true
        ) as is_due
    from participants
    inner join studies on participants.study_id = studies.study_id
    inner join contact_numbers on studies.scheduled_contacts >= contact_numbers.contact_no
    where
        participants.is_intervention
        and (
            exists (
                select 1 from new_participants
                where
                    new_participants.study_id = participants.study_id
                    and new_participants.participant_id = participants.participant_id
            )
            or exists (
                select 1 from changed_contacts
                where
                    changed_contacts.study_id = participants.study_id
                    and changed_contacts.participant_id = participants.participant_id
                    and changed_contacts.contact_no = contact_numbers.contact_no
            )
        )
),

per_contact as (
    select
        events.study_id,
        events.participant_id,
        events.contact_no,
        count(case when events.event != 'voided' then 1 end) as events,
        max(case when events.event = 'delivered' then 1 else 0 end) as any_delivered,
        max(case when events.event = 'opened' then 1 else 0 end) as any_human_open,
        max(case when events.event = 'launched' then 1 else 0 end) as any_launch,
        max(case when events.event = 'completed' then 1 else 0 end) as any_completion,
        min(case when events.event = 'delivered' then events.event_at end) as first_delivered_at,
        min(case when events.event = 'opened' then events.event_at end) as first_opened_at,
        min(case when events.event = 'completed' then events.event_at end) as completed_at,
        max(events.source_format) as source_format,
        max(events.source_file_key) as source_file_key
    from events
    inner join scheduled
        on
            events.study_id = scheduled.study_id
            and events.participant_id = scheduled.participant_id
            and events.contact_no = scheduled.contact_no
    group by events.study_id, events.participant_id, events.contact_no
),

refreshed as (
    select max(ingested_at) as refreshed_through
    from (
        select ingested_at from events
        union all
        select ingested_at from withdrawals
    ) as inputs
),

final as (
    select
        -- ids
        scheduled.study_id,
        scheduled.participant_id,
        scheduled.contact_no,
        scheduled.contact_kind,
        scheduled.is_due,
        -- engagement (docs/instruments.md): each only where the channel can show it
        case
            when scheduled.contact_kind in ('email', 'letter') then coalesce(per_contact.any_delivered, 0) = 1
        end as is_delivered,
        -- only SendGrid reports opens, and marks the machine ones
        case
            when scheduled.delivery_format = 'sendgrid_events_jsonl' then coalesce(per_contact.any_human_open, 0) = 1
        end as is_opened_by_human,
        case when scheduled.contact_kind = 'module' then coalesce(per_contact.any_launch, 0) = 1 end
            as is_launched,
        case when scheduled.contact_kind = 'module' then coalesce(per_contact.any_completion, 0) = 1 end
            as is_completed,
        per_contact.first_delivered_at,
        per_contact.first_opened_at,
        per_contact.completed_at,
        cast(coalesce(per_contact.events, 0) as integer) as delivery_events,
        -- lineage
        cast(per_contact.source_format as varchar) as source_format,
        cast(per_contact.source_file_key as varchar) as source_file_key,
        refreshed.refreshed_through
    from scheduled
    cross join refreshed
    left join per_contact
        on
            scheduled.study_id = per_contact.study_id
            and scheduled.participant_id = per_contact.participant_id
            and scheduled.contact_no = per_contact.contact_no
)

select * from final
