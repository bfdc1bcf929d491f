with source as (
    select * from {{ source('registry', 'registry_instruments') }}
),

final as (
    select
        study_id,
        outcome_code
    from source
)

select * from final
