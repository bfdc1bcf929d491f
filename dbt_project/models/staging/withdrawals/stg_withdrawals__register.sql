with source as (
    select * from {{ source('withdrawals', 'withdrawal_csv') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by study_id, participant_id, level
            order by _extract_date desc, _ingested_at desc, _row_number desc
        ) as recency_rank
    from source
),

final as (
    select
        -- ids
        study_id,
        participant_id,
        level as withdrawal_level,
        -- withdrawal
        withdrawn_on,
        reason_code,
        -- lineage
        _file_key as source_file_key,
        _ingested_at as ingested_at,
        _row_number as source_row_number
    from ranked
    where recency_rank = 1
)

select * from final
