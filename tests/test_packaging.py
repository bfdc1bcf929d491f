"""The runtime's declared dependencies are exactly what its code imports (the wheel itself is
built, installed outside the checkout and run by `make wheel-demo` in CI)."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RUNTIME = ["hhp", "ingest", "transform", "expectations", "analysis", "pipeline", "generator",
           "infra/aws.py", "infra/postgres_roles.py"]  # fmt: skip
PROJECT = {"hhp", "ingest", "transform", "expectations", "analysis", "pipeline", "generator", "infra",
           "orchestration", "benchmarks"}  # fmt: skip
# loaded by name, not imported: dbt's adapter for each warehouse engine
PLUGINS = {"dbt-duckdb", "dbt-postgres"}
# imported only where present: inside an Airflow task, for the key from its secrets backend
OPTIONAL = {"airflow"}


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _runtime_imports() -> set[str]:
    modules = set()
    for part in RUNTIME:
        path = REPO / part
        for source in [path] if path.is_file() else path.rglob("*.py"):
            for node in ast.walk(ast.parse(source.read_text())):
                if isinstance(node, ast.Import):
                    modules |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    modules.add(node.module.split(".")[0])
    return modules - PROJECT - set(sys.stdlib_module_names) - OPTIONAL


def test_runtime_dependencies_are_exactly_what_the_runtime_imports():
    declared = {
        _normalised(re.split(r"[<>=\[ ;]", requirement)[0])
        for requirement in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    }
    distributions = importlib.metadata.packages_distributions()
    imported = set()
    for module in _runtime_imports():
        owners = {_normalised(d) for d in distributions.get(module, [])}
        assert owners, f"{module} is imported by the runtime but installed by nothing"
        imported |= {"dbt-core"} if module == "dbt" else owners
    assert imported - declared == set(), "imported but not declared"
    assert declared - imported - PLUGINS == set(), "declared but never imported"


def test_airflow_cosmos_and_moto_are_extras_not_runtime():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    runtime = " ".join(project["dependencies"])
    assert not re.search(r"airflow|cosmos|moto|pytest", runtime)
    extras = project["optional-dependencies"]
    assert any("apache-airflow" in r for r in extras["airflow"]) and any("moto" in r for r in extras["test"])


def test_the_wheel_carries_every_file_the_platform_reads(tmp_path):
    """The dbt project (models, their yml and doc blocks, seeds, macros), the registry and its
    schema, the suites' catalogue and the templates: all inside the wheel."""
    import shutil
    import subprocess
    import zipfile

    # from a clean copy: setuptools would reuse a build/ folder left in the checkout
    source = tmp_path / "source"
    skipped = shutil.ignore_patterns(
        ".venv", ".git", "build", "target", "logs", "__pycache__", "*.egg-info", ".hhp"
    )
    shutil.copytree(REPO, source, ignore=skipped)
    subprocess.run([str(Path(sys.executable).parent / "uv"), "build", "--quiet", "--wheel", "--out-dir",
                    str(tmp_path / "dist")], cwd=source, check=True)  # fmt: skip
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    carried = set(zipfile.ZipFile(wheel).namelist())
    wanted = {
        f"hhp/dbt_project/{p.relative_to(REPO / 'dbt_project').as_posix()}"
        for p in (REPO / "dbt_project").rglob("*")
        if p.is_file() and p.suffix in (".sql", ".yml", ".md", ".csv") and p.parts[len(REPO.parts) + 1]
        not in ("target", "logs")
    } | {f"hhp/studies/{p.name}" for p in (REPO / "studies").iterdir() if p.is_file()} | {
        f"{p.relative_to(REPO).as_posix()}" for p in [*(REPO / "expectations").rglob("*.j2"),
                                                      *(REPO / "analysis").rglob("*.j2"),
                                                      REPO / "expectations" / "catalogue.yml"]
    }  # fmt: skip
    assert wanted - carried == set()
