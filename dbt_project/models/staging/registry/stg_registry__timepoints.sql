with source as (
    select * from {{ source('registry', 'registry_timepoints') }}
),

final as (
    select
        -- ids
        study_id,
        timepoint,
        -- window, in days from randomisation
        cast(target_day as integer) as target_day,
        cast(window_start_day as integer) as window_start_day,
        cast(window_end_day as integer) as window_end_day
    from source
)

select * from final
