{%- set items = var('survey_items') -%}

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
