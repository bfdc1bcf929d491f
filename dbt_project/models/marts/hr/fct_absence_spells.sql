{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['study_id', 'participant_id'],
        on_schema_change='fail',
    )
}}

with spells as (
    select * from {{ ref('int_absence_spells_clipped') }}
),

participants as (
    select * from {{ ref('stg_allocation__participants') }}
),

roster_snapshots as (
    select * from {{ ref('stg_hr_roster__snapshots') }}
),

leavers as (
    select * from {{ ref('stg_hr_leavers__leavers') }}
),

hr_records as (
    select
        study_id,
        employee_pseudonym,
        ingested_at
    from roster_snapshots
    union all
    select
        study_id,
        employee_pseudonym,
        ingested_at
    from leavers
),

-- what a participant's spells depend on: their absences, and the roster and leavers
-- records that bound their employment
inputs as (
    select
        study_id,
        participant_id,
        ingested_at
    from spells
    union all
    select
        participants.study_id,
        participants.participant_id,
        hr_records.ingested_at
    from participants
    inner join hr_records
        on
            participants.study_id = hr_records.study_id
            and participants.employee_pseudonym = hr_records.employee_pseudonym
),

-- a late or re-sent record changes its participant's spells: rebuild those participants whole
changed_participants as (
    select distinct
        study_id,
        participant_id
    from inputs
    {% if is_incremental() %}
        where ingested_at > (select coalesce(max(refreshed_through), cast('1900-01-01' as timestamp)) from {{ this }})
    {% endif %}
),

refreshed as (
    select max(ingested_at) as refreshed_through from inputs
),

final as (
    -- varchar as the contract has it: PostgreSQL's incremental run compares the new rows'
    -- types with the table's, and text is not varchar there
    select
        -- ids
        cast(spells.study_id as varchar) as study_id,
        cast(spells.participant_id as varchar) as participant_id,
        cast(spells.absence_type as varchar) as absence_type,
        spells.start_date,
        -- spell
        spells.end_date,
        spells.effective_end_date,
        spells.is_ongoing,
        cast(spells.absence_reason as varchar) as absence_reason,
        spells.is_sickness,
        spells.is_mental_health,
        spells.starts_in_period,
        cast(spells.calendar_days as integer) as calendar_days,
        cast(spells.days_in_period as integer) as days_in_period,
        -- the partner's own figure: a plausibility check, never an input
        cast(spells.partner_quantity as double precision) as partner_quantity,
        cast(spells.partner_unit as varchar) as partner_unit,
        -- lineage
        cast(spells.source_format as varchar) as source_format,
        cast(spells.source_file_key as varchar) as source_file_key,
        spells.source_row_number,
        refreshed.refreshed_through
    from spells
    inner join changed_participants
        on
            spells.study_id = changed_participants.study_id
            and spells.participant_id = changed_participants.participant_id
    cross join refreshed
)

select * from final
