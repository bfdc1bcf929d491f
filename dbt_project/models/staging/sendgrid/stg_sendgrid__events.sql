with source as (
    select * from {{ source('sendgrid', 'sendgrid_events_jsonl') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by study_id, sg_event_id
            order by _extract_date desc, _ingested_at desc, _row_number desc
        ) as recency_rank
    from source
),

final as (
    select
        -- ids
        study_id,
        sg_event_id,
        sg_message_id,
        email_pseudonym,
        -- event
        message_no,
        event,
        event_at,
        coalesce(is_machine_open, false) as is_machine_open,
        category,
        bounce_reason,
        bounce_type,
        -- lineage
        _file_key as source_file_key,
        _ingested_at as ingested_at,
        _row_number as source_row_number
    from ranked
    where recency_rank = 1
)

select * from final
