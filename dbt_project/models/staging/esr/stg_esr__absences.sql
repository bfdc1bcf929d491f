with source as (
    select * from {{ source('esr', 'esr_absence_csv') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by study_id, employee_pseudonym, absence_type, start_date
            order by _extract_date desc, _ingested_at desc, _row_number desc
        ) as recency_rank
    from source
),

final as (
    select
        -- ids
        study_id,
        employee_pseudonym,
        absence_type,
        start_date,
        -- absence
        end_date,
        absence_reason,
        absence_type = '{{ var("sickness_types")["esr_absence_csv"] }}' as is_sickness,
        coalesce(absence_reason like 'S10%', false) as is_mental_health,
        calendar_days_lost as partner_quantity,
        'CALENDAR_DAYS' as partner_unit,
        _extract_date as extract_date,
        -- lineage
        'esr_absence_csv' as source_format,
        _file_key as source_file_key,
        _ingested_at as ingested_at,
        _row_number as source_row_number
    from ranked
    where recency_rank = 1
)

select * from final
