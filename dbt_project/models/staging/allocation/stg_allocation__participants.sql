with source as (
    select * from {{ source('allocation', 'allocation_csv') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by study_id, participant_id
            order by _extract_date desc, _ingested_at desc, _row_number desc
        ) as recency_rank
    from source
),

final as (
    select
        -- ids
        study_id,
        participant_id,
        employee_pseudonym,
        email_pseudonym,
        mbox_sha1sum_pseudonym,
        -- allocation
        arm,
        randomised_on,
        stratum,
        cluster_id,
        -- lineage
        _file_key as source_file_key,
        _ingested_at as ingested_at,
        _row_number as source_row_number
    from ranked
    where recency_rank = 1
)

select * from final
