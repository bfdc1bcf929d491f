{#- Unadjusted comparison of arms; the adjusted models (ANCOVA, cluster-robust) are in analysis. -#}
{%- set binary_outcomes = ['LEFT_ANY', 'LEFT_VOL'] -%}

with outcomes as (
    select * from {{ ref('fct_outcomes') }}
    where analysis_flag
),

participants as (
    select * from {{ ref('dim_participant') }}
),

studies as (
    select * from {{ ref('dim_study') }}
),

primary_outcomes as (
    select * from {{ ref('stg_registry__primary_outcomes') }}
),

analysed as (
    select
        outcomes.study_id,
        outcomes.outcome_code,
        outcomes.timepoint,
        outcomes.arm,
        outcomes.value,
        participants.cluster_id
    from outcomes
    inner join participants
        on
            outcomes.study_id = participants.study_id
            and outcomes.participant_id = participants.participant_id
),

by_arm as (
    select
        study_id,
        outcome_code,
        timepoint,
        arm,
        count(*) as n,
        avg(value) as mean,
        var_samp(value) as variance
    from analysed
    group by study_id, outcome_code, timepoint, arm
),

-- cluster RCTs: the intracluster correlation of values about their arm's mean (one-way
-- ANOVA estimator), for the design effect 1 + (sum n_j^2 / N - 1) x ICC
residuals as (
    select
        analysed.study_id,
        analysed.outcome_code,
        analysed.timepoint,
        analysed.cluster_id,
        analysed.value - by_arm.mean as residual
    from analysed
    inner join by_arm
        on
            analysed.study_id = by_arm.study_id
            and analysed.outcome_code = by_arm.outcome_code
            and analysed.timepoint = by_arm.timepoint
            and analysed.arm = by_arm.arm
    inner join studies on analysed.study_id = studies.study_id
    where studies.design = 'cluster_rct'
),

clusters as (
    select
        study_id,
        outcome_code,
        timepoint,
        cluster_id,
        count(*) as n_j,
        avg(residual) as mean_j,
        sum(residual * residual) as sum_squares_j
    from residuals
    group by study_id, outcome_code, timepoint, cluster_id
),

anova as (
    select
        study_id,
        outcome_code,
        timepoint,
        count(*) as k,
        sum(n_j) as n,
        sum(n_j * n_j) as sum_n_squared,
        sum(n_j * mean_j) / sum(n_j) as grand_mean,
        sum(sum_squares_j - n_j * mean_j * mean_j) as within_squares,
        sum(n_j * mean_j * mean_j) as between_raw
    from clusters
    group by study_id, outcome_code, timepoint
),

icc as (
    select
        study_id,
        outcome_code,
        timepoint,
        cast(sum_n_squared as double precision) / n as weighted_cluster_size,
        case
            when k > 1 and n > k then
                (
                    (between_raw - n * grand_mean * grand_mean) / (k - 1)
                    - within_squares / (n - k)
                )
                / nullif(
                    (between_raw - n * grand_mean * grand_mean) / (k - 1)
                    + ((n - cast(sum_n_squared as double precision) / n) / (k - 1) - 1) * within_squares / (n - k),
                    0
                )
        end as icc
    from anova
),

paired as (
    select
        studies.study_id,
        studies.design,
        control.outcome_code,
        control.timepoint,
        control.n as n_control,
        control.mean as mean_control,
        sqrt(control.variance) as sd_control,
        intervention.n as n_intervention,
        intervention.mean as mean_intervention,
        sqrt(intervention.variance) as sd_intervention,
        intervention.mean - control.mean as difference,
        sqrt(intervention.variance / intervention.n + control.variance / control.n) as se_unadjusted,
        sqrt(
            ((intervention.n - 1) * intervention.variance + (control.n - 1) * control.variance)
            / nullif(intervention.n + control.n - 2, 0)
        ) as sd_pooled,
        1 - 3.0 / (4 * (intervention.n + control.n) - 9) as small_sample_correction,
        case
            when studies.design = 'cluster_rct'
                then 1 + (icc.weighted_cluster_size - 1) * greatest(coalesce(icc.icc, 0), 0)
            else 1
        end as design_effect,
        icc.icc
    from studies
    inner join by_arm as control
        on
            studies.study_id = control.study_id
            and studies.control_arm = control.arm
    inner join by_arm as intervention
        on
            studies.study_id = intervention.study_id
            and studies.intervention_arm = intervention.arm
            and control.outcome_code = intervention.outcome_code
            and control.timepoint = intervention.timepoint
    left join icc
        on
            control.study_id = icc.study_id
            and control.outcome_code = icc.outcome_code
            and control.timepoint = icc.timepoint
),

estimated as (
    select
        *,
        se_unadjusted * sqrt(design_effect) as se
    from paired
),

final as (
    select
        -- ids
        estimated.study_id,
        estimated.outcome_code,
        estimated.timepoint,
        primary_outcomes.study_id is not null as is_primary,
        -- by arm
        cast(estimated.n_control as integer) as n_control,
        cast(estimated.mean_control as double precision) as mean_control,
        cast(estimated.sd_control as double precision) as sd_control,
        cast(estimated.n_intervention as integer) as n_intervention,
        cast(estimated.mean_intervention as double precision) as mean_intervention,
        cast(estimated.sd_intervention as double precision) as sd_intervention,
        -- intervention minus control, normal 95% interval
        cast(estimated.difference as double precision) as difference,
        cast(estimated.se as double precision) as se,
        cast(estimated.difference - 1.959964 * estimated.se as double precision) as ci_lower,
        cast(estimated.difference + 1.959964 * estimated.se as double precision) as ci_upper,
        cast(estimated.design_effect as double precision) as design_effect,
        cast(estimated.icc as double precision) as icc,
        cast(
            estimated.small_sample_correction * estimated.difference / nullif(estimated.sd_pooled, 0)
            as double precision
        ) as hedges_g,
        -- binary outcomes: the risk difference in percentage points
        case
            when estimated.outcome_code in ({{ sql_list(binary_outcomes) }})
                then cast(100 * estimated.difference as double precision)
        end as risk_difference_pp,
        case
            when estimated.outcome_code in ({{ sql_list(binary_outcomes) }})
                then cast(100 * (estimated.difference - 1.959964 * estimated.se) as double precision)
        end
            as risk_difference_ci_lower_pp,
        case
            when estimated.outcome_code in ({{ sql_list(binary_outcomes) }})
                then cast(100 * (estimated.difference + 1.959964 * estimated.se) as double precision)
        end
            as risk_difference_ci_upper_pp
    from estimated
    left join primary_outcomes
        on
            estimated.study_id = primary_outcomes.study_id
            and estimated.outcome_code = primary_outcomes.outcome_code
            and estimated.timepoint = primary_outcomes.timepoint
)

select * from final
