{{ participant_flow(ref('dim_participant'), ref('fct_outcomes'), ref('stg_ledger__erasures')) }}
