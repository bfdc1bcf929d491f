{%- set swemwbs = ['swemwbs_1', 'swemwbs_2', 'swemwbs_3', 'swemwbs_4', 'swemwbs_5', 'swemwbs_6', 'swemwbs_7'] -%}
{%- set belong = ['belong_1', 'belong_2', 'belong_3'] -%}
{%- set itq = ['itq_1', 'itq_2', 'itq_3'] -%}
{#- CBI item values 0-100: code 1 = 0 ... code 5 = 100; item 7 is reverse-scored. -#}
{%- set cbi = ['(cbi_work_1 - 1) * 25', '(cbi_work_2 - 1) * 25', '(cbi_work_3 - 1) * 25',
               '(cbi_work_4 - 1) * 25', '(cbi_work_5 - 1) * 25', '(cbi_work_6 - 1) * 25',
               '(5 - cbi_work_7) * 25'] -%}

with qualtrics_responses as (
    select * from {{ ref('stg_qualtrics__responses') }}
),

redcap_responses as (
    select * from {{ ref('stg_redcap__responses') }}
),

swemwbs_conversion as (
    select * from {{ ref('swemwbs_conversion') }}
),

-- both survey formats are staged to the same columns
responses as (
    select * from qualtrics_responses
    union all
    select * from redcap_responses
),

real_responses as (
    select * from responses
    where is_real_response
),

scored as (
    select
        *,
        case
            when {{ count_answered(swemwbs) }} = 7 then {{ sum_answered(swemwbs) }}
        end as swemwbs_raw,
        case
            when {{ count_answered(cbi) }} >= 4
                then cast({{ sum_answered(cbi) }} as double precision) / {{ count_answered(cbi) }}
        end as cbi_work_score,
        case
            when {{ count_answered(belong) }} >= 2
                then cast({{ sum_answered(belong) }} as double precision) / {{ count_answered(belong) }}
        end as belong_score,
        case
            when {{ count_answered(itq) }} >= 2
                then cast({{ sum_answered(itq) }} as double precision) / {{ count_answered(itq) }}
        end as itq_score
    from real_responses
),

final as (
    select
        scored.*,
        swemwbs_conversion.metric_score as swemwbs_score
    from scored
    left join swemwbs_conversion on scored.swemwbs_raw = swemwbs_conversion.raw_score
)

select * from final
