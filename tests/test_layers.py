"""The layers of pyproject.toml's import-linter contracts hold, a broken one is caught, and a
project import inside a function is there only to defer a heavy import, saying so."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("hhp", "ingest", "transform", "expectations", "analysis", "infra", "generator",
            "orchestration", "pipeline", "benchmarks")  # fmt: skip
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture
def scratch(tmp_path) -> Path:
    root = tmp_path / "copy"
    for package in PACKAGES:
        shutil.copytree(REPO / package, root / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    return root


def test_the_contracts_hold_and_an_upward_import_breaks_them(scratch):
    kept = _lint(scratch)
    assert kept.returncode == 0, kept.stdout + kept.stderr
    assert "3 kept, 0 broken" in kept.stdout
    warehouse = scratch / "hhp" / "warehouse.py"
    warehouse.write_text(warehouse.read_text() + "\n\ndef _upward():\n    import pipeline.status  # noqa\n")
    broken = _lint(scratch)
    assert broken.returncode != 0
    assert "Layers: foundation, stages, tools, pipeline and CLI, benchmarks BROKEN" in broken.stdout
    assert "hhp.warehouse -> pipeline.status" in broken.stdout


def test_a_stage_importing_another_breaks_their_independence(scratch):
    report = scratch / "analysis" / "report.py"
    report.write_text(report.read_text() + "\n\nfrom ingest import landing  # noqa\n")
    broken = _lint(scratch)
    assert broken.returncode != 0 and "Stages are independent BROKEN" in broken.stdout


def _imports_inside_functions(path: Path) -> list[tuple[int, str]]:
    lines = path.read_text().splitlines()
    found = set()
    for function in ast.walk(ast.parse(path.read_text())):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in PACKAGES:
                found.add((node.lineno, lines[node.lineno - 1]))
            elif isinstance(node, ast.Import) and any(a.name.split(".")[0] in PACKAGES for a in node.names):
                found.add((node.lineno, lines[node.lineno - 1]))
    return sorted(found)


def test_a_project_import_inside_a_function_says_why_it_is_deferred():
    sources = [p for p in [*REPO.rglob("*.py")] if not p.is_relative_to(REPO / ".venv")
               and not p.is_relative_to(REPO / "tests")]  # fmt: skip
    unexplained, deferred = [], 0
    for path in sources:
        lines = path.read_text().splitlines()
        for lineno, line in _imports_inside_functions(path):
            deferred += 1
            if "# deferred:" not in line and "# deferred:" not in lines[lineno - 2]:
                unexplained.append(f"{path.relative_to(REPO)}:{lineno}: {line.strip()}")
    assert unexplained == []
    assert deferred <= 12  # the CLI's stages and the DAG tasks' imports, no more
