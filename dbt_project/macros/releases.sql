{#- The release a snapshot model writes: the one `hhp release create` left pending (hhp/releases.py),
    unless this model holds it already (a snapshot is written once). -#}

{% macro pending_release() -%}
    select * from {{ ref('stg_ledger__data_releases') }}
    where
        state = 'pending'
    {% if is_incremental() %}
            and release_name not in (select distinct built.release_name from {{ this }} as built)
    {% endif %}
{%- endmacro %}
