{%- set items = var('survey_items') -%}

with source as (
    select * from {{ source('qualtrics', 'qualtrics_csv') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by study_id, response_id
            order by _extract_date desc, _ingested_at desc, _row_number desc
        ) as recency_rank
    from source
),

final as (
    select
        -- ids
        study_id,
        response_id,
        participant_id,
        wave as timepoint,
        -- response
        status,
        -- real responses: by web (IP Address) or by the offline app (Offline)
        status in ('IP Address', 'Offline') as is_real_response,
        status in ('IP Address', 'Offline') and finished as is_complete,
        recorded_at,
        progress,
        -- items, as codes 1-5
        {%- for item in items %}
            {{ survey_item_code(item) }} as {{ item }},
        {%- endfor %}
        -- lineage
        'qualtrics_csv' as source_format,
        _file_key as source_file_key,
        _row_number as source_row_number
    from ranked
    where recency_rank = 1
)

select * from final
