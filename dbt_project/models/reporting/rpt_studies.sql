with studies as (
    select * from {{ ref('dim_study') }}
),

final as (
    select
        study_id,
        title,
        design,
        control_arm,
        intervention_arm,
        primary_outcomes,
        {{ disclosed_count('participants_randomised') }} as participants_randomised
    from studies
)

select * from final
