with source as (
    select * from {{ source('ledger', 'erasures') }}
),

final as (
    select
        -- ids
        study_id,
        arm,
        -- erasures
        cast(sum(participants) as integer) as participants_erased
    from source
    group by study_id, arm
)

select * from final
