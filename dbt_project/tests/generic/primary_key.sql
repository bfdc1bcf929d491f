{#- The model's grain: no two rows share the key columns, and none of them is null. -#}
{% test primary_key(model, columns) %}

with keys as (
    select
        {{ columns | join(', ') }},
        count(*) as occurrences
    from {{ model }}
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
