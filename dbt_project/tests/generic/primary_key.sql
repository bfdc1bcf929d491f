{#- The model's grain: no two rows share the key columns, and none of them is null.

    For an incremental model (delete+insert on these same columns), built_in names the column
    that marks the build that wrote each row: the test looks at the rows of the latest build,
    as the strategy has already removed every older row with one of their keys. -#}
{% test primary_key(model, columns, built_in=none) %}

with checked as (
    select * from {{ model }}
    {%- if built_in %}
        where {{ built_in }} = (select max(latest.{{ built_in }}) from {{ model }} as latest)
    {%- endif %}
),

keys as (
    select
        {{ columns | join(', ') }},
        count(*) as occurrences
    from checked
    group by {{ columns | join(', ') }}
),

violations as (
    select * from keys
    where
        occurrences > 1
        {%- for column in columns %}
            or {{ column }} is null
        {%- endfor %}
)

select * from violations

{% endtest %}
