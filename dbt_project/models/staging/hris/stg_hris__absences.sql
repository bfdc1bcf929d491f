with source as (
    select * from {{ source('hris', 'hris_absence_json') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by study_id, worker_pseudonym, absence_type, start_date
            order by extract_date desc, _ingested_at desc, _row_number desc
        ) as recency_rank
    from source
),

final as (
    select
        -- ids
        study_id,
        worker_pseudonym as employee_pseudonym,
        absence_type,
        start_date,
        -- absence
        end_date,
        reason as absence_reason,
        absence_type = '{{ var("sickness_types")["hris_absence_json"] }}' as is_sickness,
        reason in ({{ sql_list(var('mental_health_reasons')) }}) as is_mental_health,
        quantity as partner_quantity,
        unit as partner_unit,
        extract_date,
        -- lineage
        'hris_absence_json' as source_format,
        _file_key as source_file_key,
        _ingested_at as ingested_at,
        _row_number as source_row_number
    from ranked
    where recency_rank = 1
)

select * from final
