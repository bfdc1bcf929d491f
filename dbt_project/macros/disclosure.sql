{#- Disclosure control (docs/instruments.md): counts under 10 shown as c, others rounded to the
    nearest 5 (halves up, as the report rounds); no statistic over fewer than 10 people. -#}

{% macro disclosed_count(n) -%}
    case
        when {{ n }} is null then null
        when {{ n }} < {{ var('min_cell') }} then 'c'
        else cast(cast(floor({{ n }} / 5.0 + 0.5) * 5 as integer) as varchar)
    end
{%- endmacro %}

{% macro disclosed_statistic(value, n) -%}
    case when {{ n }} >= {{ var('min_cell') }} then {{ value }} end
{%- endmacro %}
