{%- set items = ['swemwbs_1', 'swemwbs_2', 'swemwbs_3', 'swemwbs_4', 'swemwbs_5', 'swemwbs_6', 'swemwbs_7',
                 'cbi_work_1', 'cbi_work_2', 'cbi_work_3', 'cbi_work_4', 'cbi_work_5', 'cbi_work_6', 'cbi_work_7',
                 'belong_1', 'belong_2', 'belong_3', 'itq_1', 'itq_2', 'itq_3'] -%}

with source as (
    select * from {{ source('redcap', 'redcap_csv') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by study_id, record_id, redcap_event_name
            order by _extract_date desc, _ingested_at desc, _row_number desc
        ) as recency_rank
    from source
),

final as (
    select
        -- ids
        study_id,
        record_id || ':' || redcap_event_name as response_id,
        record_id as participant_id,
        replace(redcap_event_name, '_arm_1', '') as timepoint,
        -- response
        cast(wellbeing_complete as varchar) as status,
        true as is_real_response,
        wellbeing_complete = 2 as is_complete,
        recorded_at,
        cast(null as double precision) as progress,
        -- items, as codes 1-5
        {%- for item in items %}
            {{ survey_item_code(item) }} as {{ item }},
        {%- endfor %}
        -- lineage
        'redcap_csv' as source_format,
        _file_key as source_file_key,
        _row_number as source_row_number
    from ranked
    where recency_rank = 1
)

select * from final
