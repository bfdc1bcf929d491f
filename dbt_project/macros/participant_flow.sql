{#- The participant flow (docs/instruments.md; the report's CONSORT diagram draws it): one row
    per `keys` (the study, and the release for a release's flow) per stage per arm, its counts
    disclosure-controlled. `erasures` holds participants_erased per `keys` and arm: those since
    erased were randomised, they are not analysed. No totals: a total beside a suppressed arm
    would give it away. -#}

{% macro participant_flow(participants, outcomes, erasures, keys=['study_id']) -%}
{%- set by = keys | join(', ') -%}
with participants as (
    select * from {{ participants }}
),

outcomes as (
    select * from {{ outcomes }}
),

erasures as (
    select * from {{ erasures }}
),

-- everyone randomised, those since erased included
randomised as (
    select
        {{ by }},
        'randomised' as flow_stage,
        arm,
        sum(n) as n
    from (
        select
            {{ by }},
            arm,
            count(*) as n
        from participants
        group by {{ by }}, arm
        union all
        select
            {{ by }},
            arm,
            participants_erased as n
        from erasures
    ) as everyone
    group by {{ by }}, arm
),

-- withdrawn by the highest level reached; a level no one reached shows 0
withdrawn as (
    select
        {{ by }},
        'withdrew: ' || withdrawal_level as flow_stage,
        arm,
        count(*) as n
    from participants
    where withdrawal_level in ('intervention', 'follow_up')
    group by {{ by }}, withdrawal_level, arm
    union all
    select
        {{ by }},
        'withdrew: data' as flow_stage,
        arm,
        participants_erased as n
    from erasures
),

reached as (
    select distinct
        {{ by }},
        participant_id,
        arm,
        case when timepoint = 'period' then 'HR record' else 'survey ' || timepoint end as flow_stage
    from outcomes
    where analysis_flag and value is not null
),

reached_by_arm as (
    select
        {{ by }},
        flow_stage,
        arm,
        count(*) as n
    from reached
    group by {{ by }}, flow_stage, arm
),

final as (
    {%- for counted in ['randomised', 'reached_by_arm', 'withdrawn'] %}
        select
            {{ by }},
            flow_stage,
            arm,
            {{ disclosed_count('n') }} as n
        from {{ counted }}
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
)

select * from final
{%- endmacro %}
