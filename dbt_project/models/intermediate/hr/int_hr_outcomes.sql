with periods as (
    select * from {{ ref('int_hr_employment_periods') }}
),

spells as (
    select * from {{ ref('int_absence_spells_clipped') }}
    where is_sickness
),

spell_totals as (
    select
        study_id,
        participant_id,
        sum(days_in_period) as sick_days,
        sum(case when is_mental_health then days_in_period else 0 end) as mental_health_days,
        sum(case when starts_in_period then 1 else 0 end) as spells_started,
        max(source_file_key) as absence_file_key,
        max(source_format) as absence_source_format
    from spells
    group by study_id, participant_id
),

measured as (
    select
        periods.*,
        coalesce(spell_totals.sick_days, 0) as sick_days,
        coalesce(spell_totals.mental_health_days, 0) as mental_health_days,
        coalesce(spell_totals.spells_started, 0) as spells_started,
        spell_totals.absence_file_key,
        spell_totals.absence_source_format
    from periods
    left join spell_totals
        on
            periods.study_id = spell_totals.study_id
            and periods.participant_id = spell_totals.participant_id
),

-- docs/instruments.md; an outcome period that follow-up did not cover is missing
measures as (
    select
        study_id,
        participant_id,
        has_hr_record,
        is_followed_up,
        cast(sick_days * fte as double precision) as abs_days,
        case
            when days_employed > 0
                then cast(sick_days * fte as double precision) / (days_employed * fte) * 100
        end as abs_rate,
        cast(spells_started as double precision) as abs_spells,
        cast(mental_health_days * fte as double precision) as abs_mh_days,
        cast(spells_started * spells_started * sick_days as double precision) as bradford,
        cast(case when left_in_period then 1 else 0 end as double precision) as left_any,
        cast(case when left_in_period and is_voluntary_leaver then 1 else 0 end as double precision)
            as left_vol,
        absence_file_key,
        absence_source_format,
        leavers_file_key
    from measured
),

final as (
    select
        -- ids
        study_id,
        participant_id,
        has_hr_record,
        is_followed_up,
        -- measures
        case when is_followed_up then abs_days end as abs_days,
        case when is_followed_up then abs_rate end as abs_rate,
        case when is_followed_up then abs_spells end as abs_spells,
        case when is_followed_up then abs_mh_days end as abs_mh_days,
        case when is_followed_up then bradford end as bradford,
        case when is_followed_up then left_any end as left_any,
        case when is_followed_up then left_vol end as left_vol,
        -- lineage
        absence_file_key,
        absence_source_format,
        leavers_file_key
    from measures
)

select * from final
