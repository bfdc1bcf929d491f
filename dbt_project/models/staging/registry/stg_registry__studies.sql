with source as (
    select * from {{ source('registry', 'registry_studies') }}
),

final as (
    select
        -- ids
        study_id,
        -- design
        title,
        design,
        control_arm,
        intervention_arm,
        allocation_ratio,
        strata,
        cluster_unit,
        cast(hr_period_days as integer) as hr_period_days,
        cast(contacts as integer) as scheduled_contacts,
        contact_kind,
        delivery_format,
        survey_format,
        absence_format,
        leavers_format
    from source
)

select * from final
