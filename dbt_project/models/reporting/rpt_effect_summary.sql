with effects as (
    select * from {{ ref('fct_effect_summary') }}
),

outcomes as (
    select * from {{ ref('outcomes') }}
),

final as (
    select
        effects.study_id,
        effects.outcome_code,
        outcomes.outcome_label,
        effects.timepoint,
        effects.is_primary,
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
    left join outcomes on effects.outcome_code = outcomes.outcome_code
)

select * from final
