with source as (
    select * from {{ source('exchange', 'exchange_message_trace_csv') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by study_id, message_trace_id, recipient_pseudonym
            order by _extract_date desc, _ingested_at desc, _row_number desc
        ) as recency_rank
    from source
),

final as (
    select
        -- ids
        study_id,
        message_trace_id,
        recipient_pseudonym as email_pseudonym,
        message_id,
        -- delivery
        message_no,
        received_at,
        status,
        status = 'Delivered' as is_delivered,
        size_bytes,
        -- lineage
        _file_key as source_file_key,
        _ingested_at as ingested_at,
        _row_number as source_row_number
    from ranked
    where recency_rank = 1
)

select * from final
