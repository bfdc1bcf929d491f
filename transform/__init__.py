"""The transform stage: dbt builds the harmonised models from raw (dbt_project/)."""
