{{ config(materialized='view', tags=['release']) }}

with source as (
    select * from {{ source('ledger', 'data_release_erasures') }}
),

final as (
    select
        -- ids
        cast(release_name as varchar) as release_name,
        study_id,
        arm,
        -- erasures
        cast(sum(participants) as integer) as participants_erased
    from source
    group by release_name, study_id, arm
)

select * from final
