with effects as (
    select * from {{ ref('fct_effect_summary') }}
),

final as (
    select
        study_id,
        outcome_code,
        timepoint,
        is_primary,
        {{ disclosed_count('n_control') }} as n_control,
        {{ disclosed_count('n_intervention') }} as n_intervention,
        {{ disclosed_statistic('mean_control', 'least(n_control, n_intervention)') }} as mean_control,
        {{ disclosed_statistic('mean_intervention', 'least(n_control, n_intervention)') }}
            as mean_intervention,
        {{ disclosed_statistic('difference', 'least(n_control, n_intervention)') }} as difference,
        {{ disclosed_statistic('ci_lower', 'least(n_control, n_intervention)') }} as ci_lower,
        {{ disclosed_statistic('ci_upper', 'least(n_control, n_intervention)') }} as ci_upper,
        {{ disclosed_statistic('hedges_g', 'least(n_control, n_intervention)') }} as hedges_g,
        {{ disclosed_statistic('risk_difference_pp', 'least(n_control, n_intervention)') }}
            as risk_difference_pp,
        least(n_control, n_intervention) < {{ var('min_cell') }} as is_suppressed
    from effects
)

select * from final
