{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['study_id', 'message_trace_id', 'email_pseudonym'],
        on_schema_change='fail',
    )
}}

with source as not materialized (
    select * from {{ source('exchange', 'exchange_message_trace_csv') }}
),

-- after the first build, only the entries that rows loaded since name: every row of each,
-- so that the latest still wins whatever order extracts arrive in
changed_entries as (
    select distinct
        study_id,
        message_trace_id,
        recipient_pseudonym
    from source
    {% if is_incremental() %}
        where _ingested_at > (select coalesce(max(built.ingested_at), cast('1900-01-01' as timestamp)) from {{ this }} as built)
    {% endif %}
),

ranked as (
    select
        source.*,
        row_number() over (
            partition by source.study_id, source.message_trace_id, source.recipient_pseudonym
            order by source._extract_date desc, source._ingested_at desc, source._row_number desc
        ) as recency_rank
    from source
    inner join changed_entries
        on
            source.study_id = changed_entries.study_id
            and source.message_trace_id = changed_entries.message_trace_id
            and source.recipient_pseudonym = changed_entries.recipient_pseudonym
),

final as (
    select
        -- ids
        study_id,
        message_trace_id,
        recipient_pseudonym as email_pseudonym,
        message_id,
        -- delivery
        message_no,
        received_at,
        status,
        status = 'Delivered' as is_delivered,
        size_bytes,
        -- lineage
        _file_key as source_file_key,
        _ingested_at as ingested_at,
        _row_number as source_row_number,
        {{ build_time() }} as built_at
    from ranked
    where recency_rank = 1
)

select * from final
