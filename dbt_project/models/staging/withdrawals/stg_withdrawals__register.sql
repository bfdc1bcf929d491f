with source as (
    select * from {{ source('withdrawals', 'withdrawal_csv') }}
),

-- a participant withdrawn at level data is erased: their id stays in the raw register alone
erased as (
    select distinct
        study_id,
        participant_id
    from source
    where level = 'data'
),

ranked as (
    select
        *,
        row_number() over (
            partition by study_id, participant_id, level
            order by _extract_date desc, _ingested_at desc, _row_number desc
        ) as recency_rank
    from source
    where not exists (
        select 1 from erased
        where
            erased.study_id = source.study_id
            and erased.participant_id = source.participant_id
    )
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
