-- a view: a release's state changes once, from pending to created, and its snapshots read it
{{ config(materialized='view', tags=['release']) }}

with source as (
    select * from {{ source('ledger', 'data_releases') }}
),

final as (
    select
        -- ids
        cast(release_name as varchar) as release_name,
        -- release
        cast(cut_on as date) as cut_on,
        state,
        created_by,
        cast(created_at as timestamp) as created_at
    from source
)

select * from final
