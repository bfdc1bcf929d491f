with source as (
    select * from {{ source('xapi', 'xapi_statements_json') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by study_id, statement_id
            order by _extract_date desc, _ingested_at desc, _row_number desc
        ) as recency_rank
    from source
),

statements as (
    select * from ranked
    where recency_rank = 1
),

-- a voiding statement withdraws the statement its object names, whichever file either came in
voiding as (
    select
        study_id,
        object_id as voided_statement_id,
        statement_id as voiding_statement_id,
        _file_key as voiding_file_key,
        _row_number as voiding_row_number,
        _ingested_at as voiding_ingested_at,
        row_number() over (
            partition by study_id, object_id order by statement_at, statement_id
        ) as voiding_rank
    from statements
    where verb = 'voided'
),

final as (
    select
        -- ids
        statements.study_id,
        statements.statement_id,
        statements.email_pseudonym,
        statements.employee_pseudonym,
        statements.mbox_sha1sum_pseudonym,
        -- statement
        statements.verb,
        statements.module_no,
        statements.completion,
        statements.statement_at,
        statements.stored_at,
        voiding.voiding_statement_id is not null as is_voided,
        voiding.voiding_statement_id as voided_by_statement_id,
        -- lineage
        statements._file_key as source_file_key,
        statements._ingested_at as ingested_at,
        statements._row_number as source_row_number,
        voiding.voiding_file_key as voided_by_file_key,
        voiding.voiding_row_number as voided_by_row_number,
        voiding.voiding_ingested_at as voided_by_ingested_at
    from statements
    left join voiding
        on
            statements.study_id = voiding.study_id
            and statements.statement_id = voiding.voided_statement_id
            and voiding.voiding_rank = 1
    where statements.verb != 'voided'
)

select * from final
