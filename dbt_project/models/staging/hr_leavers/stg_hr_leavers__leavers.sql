with source as (
    select * from {{ source('hr_leavers', 'hr_leavers_csv') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by study_id, employee_pseudonym
            order by _extract_date desc, _ingested_at desc, _row_number desc
        ) as recency_rank
    from source
),

final as (
    select
        -- ids
        study_id,
        employee_pseudonym,
        -- leaving
        termination_date,
        leaving_reason,
        notice_given_date,
        -- lineage
        _file_key as source_file_key,
        _ingested_at as ingested_at,
        _row_number as source_row_number
    from ranked
    where recency_rank = 1
)

select * from final
