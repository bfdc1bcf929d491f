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
    union all
    select
        study_id,
        email_pseudonym,
        module_no as contact_no,
        verb as event,
        statement_at as event_at,
        'xapi_statements_json' as source_format,
        source_file_key,
        source_row_number,
        ingested_at
    from xapi_statements
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

-- a letter is delivered once dispatched, unless it came back undelivered
letters as (
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

final as (
    select
        -- ids
        study_id,
        participant_id,
        cast(contact_no as integer) as contact_no,
        -- event
        event,
        event_at,
        -- lineage
        source_format,
        source_file_key,
        source_row_number,
        ingested_at
    from email_linked
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
)

select * from final
