{# Differences between engines live here, dispatched per adapter. #}

{# Whole days from start_date to end_date, as an integer. #}
{% macro days_between(start_date, end_date) -%}
    {{ return(adapter.dispatch('days_between', 'hhp')(start_date, end_date)) }}
{%- endmacro %}

{% macro default__days_between(start_date, end_date) -%}
    cast(({{ end_date }}) - ({{ start_date }}) as integer)
{%- endmacro %}

{# A date plus a number of days. #}
{% macro add_days(a_date, days) -%}
    {{ return(adapter.dispatch('add_days', 'hhp')(a_date, days)) }}
{%- endmacro %}

{% macro default__add_days(a_date, days) -%}
    cast(({{ a_date }}) + cast({{ days }} as integer) as date)
{%- endmacro %}

{# Fresh planner statistics for a just-built table (PostgreSQL plans by them). #}
{% macro refresh_statistics() -%}
    {{ return(adapter.dispatch('refresh_statistics', 'hhp')()) }}
{%- endmacro %}

{% macro default__refresh_statistics() -%}
    {%- if model.config.materialized in ('table', 'incremental') -%}analyze {{ this }}{%- endif -%}
{%- endmacro %}

{% macro duckdb__refresh_statistics() -%}
{%- endmacro %}

{# The first day of a date's month, as a date. #}
{% macro month_start(a_date) -%}
    cast(date_trunc('month', {{ a_date }}) as date)
{%- endmacro %}

{# The last day of a date's month, as a date. #}
{% macro month_end(a_date) -%}
    {{ add_days("cast(date_trunc('month', " ~ a_date ~ ") + interval '1 month' as date)", -1) }}
{%- endmacro %}

{# When this dbt invocation started, as a timestamp: marks the rows an incremental build wrote. #}
{% macro build_time() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}
