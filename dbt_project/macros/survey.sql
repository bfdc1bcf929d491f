{# Survey item value (choice text or numeric code, as sent) to its code 1-5. #}
{% macro survey_item_code(column) -%}
    case trim({{ column }})
        {%- for code in range(1, 6) %}
        when '{{ code }}' then {{ code }}
        {%- endfor %}
        {%- for text, code in var('choice_codes').items() %}
        when {{ sql_literal(text) }} then {{ code }}
        {%- endfor %}
    end
{%- endmacro %}

{# Count of answered items among columns. #}
{% macro count_answered(columns) -%}
    ({% for c in columns %}case when {{ c }} is not null then 1 else 0 end{% if not loop.last %} + {% endif %}{% endfor %})
{%- endmacro %}

{# Sum of the answered items (unanswered count as 0; divide by count_answered for a mean). #}
{% macro sum_answered(columns) -%}
    ({% for c in columns %}coalesce({{ c }}, 0){% if not loop.last %} + {% endif %}{% endfor %})
{%- endmacro %}

{# A list of strings as SQL literals: 'a', 'b'. #}
{% macro sql_list(values) -%}
    {%- for value in values %}{{ sql_literal(value) }}{% if not loop.last %}, {% endif %}{% endfor -%}
{%- endmacro %}

{# A text as an SQL literal: the one place the project quotes a value (hhp.sql's quote_literal in dbt). #}
{% macro sql_literal(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}
