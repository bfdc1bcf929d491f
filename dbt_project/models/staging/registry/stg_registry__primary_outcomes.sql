with source as (
    select * from {{ source('registry', 'registry_primary_outcomes') }}
),

final as (
    select
        study_id,
        outcome_code,
        timepoint
    from source
)

select * from final
