{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['study_id', 'participant_id', 'contact_no'],
        on_schema_change='fail',
    )
}}

with exchange_messages as (
    select * from {{ ref('stg_exchange__message_trace') }}
),

sendgrid_events as (
    select * from {{ ref('stg_sendgrid__events') }}
),

postal_dispatches as (
    select * from {{ ref('stg_postal__dispatches') }}
),

xapi_statements as (
    select * from {{ ref('stg_xapi__statements') }}
),

participants as (
    select * from {{ ref('stg_allocation__participants') }}
),

-- what the last build saw: its newest event, and whether the allocation changed since
last_build as (
    {% if is_incremental() %}
        select
            coalesce(max(built.ingested_at), cast('1900-01-01' as timestamp)) as ingested_through,
            (select max(participants.ingested_at) from participants)
            > coalesce(max(built.ingested_at), cast('1900-01-01' as timestamp)) as allocation_changed
        from {{ this }} as built
    {% else %}
        select
            cast('1900-01-01' as timestamp) as ingested_through,
            true as allocation_changed
    {% endif %}
),

-- one shape for the four delivery formats: who, which contact, what happened, when
by_email as (
    select
        study_id,
        email_pseudonym,
        message_no as contact_no,
        case when is_delivered then 'delivered' else 'not_delivered' end as event,
        received_at as event_at,
        'exchange_message_trace_csv' as source_format,
        source_file_key,
        source_row_number,
        ingested_at
    from exchange_messages
    union all
    select
        study_id,
        email_pseudonym,
        message_no as contact_no,
        case
            when event = 'open' and is_machine_open then 'machine_open'
            when event = 'open' then 'opened'
            else event
        end as event,
        event_at,
        'sendgrid_events_jsonl' as source_format,
        source_file_key,
        source_row_number,
        ingested_at
    from sendgrid_events
),

email_linked as (
    select
        participants.study_id,
        participants.participant_id,
        by_email.contact_no,
        by_email.event,
        by_email.event_at,
        by_email.source_format,
        by_email.source_file_key,
        by_email.source_row_number,
        by_email.ingested_at
    from by_email
    inner join participants
        on
            by_email.study_id = participants.study_id
            and by_email.email_pseudonym = participants.email_pseudonym
),

-- a learning record store names actors by email, employee number or mbox_sha1sum (registry)
participant_keys as (
    {%- for kind, column in [('email', 'email_pseudonym'), ('employee', 'employee_pseudonym'),
                             ('mbox_sha1sum', 'mbox_sha1sum_pseudonym')] %}
        select
            study_id,
            participant_id,
            '{{ kind }}' as key_kind,
            {{ column }} as actor_key
        from participants
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

statement_keys as (
    select
        *,
        case
            when email_pseudonym is not null then 'email'
            when employee_pseudonym is not null then 'employee'
            else 'mbox_sha1sum'
        end as key_kind,
        coalesce(email_pseudonym, employee_pseudonym, mbox_sha1sum_pseudonym) as actor_key
    from xapi_statements
),

-- a voided statement stays, as the event 'voided' traced to the voiding statement, so that the
-- contact it belonged to is rebuilt when the voiding arrives in a later file
statements_linked as (
    select
        participant_keys.study_id,
        participant_keys.participant_id,
        statement_keys.module_no as contact_no,
        case when statement_keys.is_voided then 'voided' else statement_keys.verb end as event,
        statement_keys.statement_at as event_at,
        'xapi_statements_json' as source_format,
        coalesce(statement_keys.voided_by_file_key, statement_keys.source_file_key) as source_file_key,
        coalesce(statement_keys.voided_by_row_number, statement_keys.source_row_number) as source_row_number,
        greatest(statement_keys.ingested_at, coalesce(statement_keys.voided_by_ingested_at, statement_keys.ingested_at))
            as ingested_at
    from statement_keys
    inner join participant_keys
        on
            statement_keys.study_id = participant_keys.study_id
            and statement_keys.key_kind = participant_keys.key_kind
            and statement_keys.actor_key = participant_keys.actor_key
),

-- a letter is delivered once dispatched, unless it came back undelivered
letters as not materialized (
    select
        study_id,
        participant_id,
        cast(row_number() over (
            partition by study_id, participant_id order by dispatched_on, letter_ref
        ) as integer) as contact_no,
        case when is_delivered then 'delivered' else 'returned' end as event,
        cast(coalesce(returned_on, dispatched_on) as timestamp) as event_at,
        'postal_dispatch_csv' as source_format,
        source_file_key,
        source_row_number,
        ingested_at
    from postal_dispatches
),

all_events as not materialized (
    select
        study_id,
        participant_id,
        cast(contact_no as integer) as contact_no,
        event,
        event_at,
        source_format,
        source_file_key,
        source_row_number,
        ingested_at
    from email_linked
    union all
    select
        study_id,
        participant_id,
        cast(contact_no as integer) as contact_no,
        event,
        event_at,
        source_format,
        source_file_key,
        source_row_number,
        ingested_at
    from statements_linked
    union all
    select
        study_id,
        participant_id,
        contact_no,
        event,
        event_at,
        source_format,
        source_file_key,
        source_row_number,
        ingested_at
    from letters
),

-- a contact with an event loaded since the last build has all its events rebuilt (a re-sent
-- event replaces the one it re-sends); a new letter renumbers its participant's letters, so
-- all of them are; after a change to the allocation, every contact is
changed_contacts as (
    select distinct
        all_events.study_id,
        all_events.participant_id,
        all_events.contact_no
    from all_events
    cross join last_build
    where
        last_build.allocation_changed
        or all_events.ingested_at > last_build.ingested_through
        or (
            all_events.source_format = 'postal_dispatch_csv'
            and exists (
                select 1 from letters as new_letters
                where
                    new_letters.study_id = all_events.study_id
                    and new_letters.participant_id = all_events.participant_id
                    and new_letters.ingested_at > last_build.ingested_through
            )
        )
),

final as (
    select
        -- ids
        all_events.study_id,
        all_events.participant_id,
        all_events.contact_no,
        -- event
        all_events.event,
        all_events.event_at,
        -- lineage
        all_events.source_format,
        all_events.source_file_key,
        all_events.source_row_number,
        all_events.ingested_at,
        {{ build_time() }} as built_at
    from all_events
    inner join changed_contacts
        on
            all_events.study_id = changed_contacts.study_id
            and all_events.participant_id = changed_contacts.participant_id
            and all_events.contact_no = changed_contacts.contact_no
)

select * from final
