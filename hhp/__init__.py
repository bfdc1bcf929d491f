"""The platform's foundation: settings, the warehouse interface, the study registry, the ledger,
pseudonymisation, SQL quoting, fault points, instruments and the list of formats. It imports no
stage; every stage imports it (the layers are in pyproject.toml, enforced by `make lint`)."""

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def bundled(name: str, package: Path = _PACKAGE) -> Path:
    """A folder of the repository (`dbt_project`, `studies`...) that an installed wheel carries
    inside `package` (pyproject.toml maps it there); in a checkout, the folder beside it."""
    inside = package / name
    return inside if inside.is_dir() else package.parent / name


STUDIES_DIR = bundled("studies")  # the registry the platform ships with (HHP_STUDIES replaces it)
DBT_PROJECT_DIR = bundled("dbt_project")
