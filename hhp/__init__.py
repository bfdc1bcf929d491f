"""The wellbeing programme data platform: configuration, CLI and the pipeline's stages."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
STUDIES_DIR = REPO_ROOT / "studies"
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
