-- a view: an erasure since the release takes its person out of the snapshots, and the flow follows
{{ config(materialized='view') }}

{{ participant_flow(
    ref('rel_participants'), ref('rel_outcomes'), ref('stg_ledger__data_release_erasures'),
    keys=['release_name', 'study_id'],
) }}
