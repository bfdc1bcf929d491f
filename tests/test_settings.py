"""Every setting is declared once (hhp.config.Settings): read nowhere else, documented as declared."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from hhp.config import SETTINGS, ConfigError, load_settings, masked, settings_table

REPO = Path(__file__).resolve().parents[1]


def _environment_reads(path: Path) -> list[str]:
    """`HHP_*` names a module reads from a mapping: x["HHP_..."] (not as a target) or
    x.get / x.pop / x.setdefault / getenv("HHP_...")."""
    reads = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        key = None
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            key = node.slice
        elif isinstance(node, ast.Call) and node.args:
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name in ("get", "pop", "setdefault", "getenv"):
                key = node.args[0]
        if isinstance(key, ast.Constant) and str(key.value).startswith("HHP_"):
            reads.append(f"{path.relative_to(REPO)}:{node.lineno} {key.value}")
    return reads


def test_no_module_but_the_settings_reads_an_hhp_variable():
    sources = [
        p
        for p in REPO.rglob("*.py")
        if not p.is_relative_to(REPO / ".venv") and not p.is_relative_to(REPO / "tests")
    ]
    assert len(sources) > 50
    reads = [r for p in sources if p != REPO / "hhp" / "config.py" for r in _environment_reads(p)]
    assert reads == []
    assert _environment_reads(REPO / "hhp" / "config.py") == []  # even there, only through SETTINGS


def test_the_finder_finds_a_read(tmp_path):
    module = REPO / "tests" / "_scratch_env_read.py"
    module.write_text('import os\nvalue = os.environ.get("HHP_SOMETHING")\nother = env["HHP_OTHER"]\n')
    try:
        assert [r.split(" ")[1] for r in _environment_reads(module)] == ["HHP_SOMETHING", "HHP_OTHER"]
    finally:
        module.unlink()


def test_the_readme_table_is_the_settings():
    readme = (REPO / "README.md").read_text()
    assert settings_table() in readme
    documented = {line.split("`")[1] for line in readme.splitlines() if line.startswith("| `HHP_")}
    assert documented == {s.env for _, s in SETTINGS}
    assert len(SETTINGS) >= 15


def test_every_hhp_variable_named_anywhere_is_a_setting():
    """A name in code or docs that no setting declares is a setting read behind Settings' back,
    or documentation of one that does not exist."""
    import re

    declared = {s.env for _, s in SETTINGS}
    named = set()
    for path in [*REPO.glob("*.md"), *REPO.glob("docs/*.md"), *REPO.rglob("*.py"), REPO / ".env.example"]:
        if path.is_relative_to(REPO / ".venv"):
            continue
        named |= set(re.findall(r"\bHHP_[A-Z_]*[A-Z]\b", path.read_text()))
    named -= {"HHP_SOMETHING", "HHP_OTHER"}  # this file's own example
    assert named - declared == set()


def test_settings_load_from_the_environment_given():
    settings = load_settings(
        {
            "HHP_HOME": "/tmp/h",
            "HHP_LOG_LEVEL": "debug",
            "HHP_LANDING": "s3://b/in",
            "HHP_PSEUDONYM_KEY": "the-key-itself",
        }
    )
    assert settings.home == Path("/tmp/h")
    assert (settings.archive, settings.quarantine) == ("s3://b/archive", "s3://b/quarantine")
    assert settings.log_level == "DEBUG" and settings.duckdb_memory == "512MB"
    assert "the-key-itself" not in repr(settings)  # secrets stay out of reprs and tracebacks
    with pytest.raises(ConfigError, match="HHP_TRANSFORM_WAREHOUSE"):
        load_settings({"HHP_WAREHOUSE": "postgresql://a@h/d", "HHP_TRANSFORM_WAREHOUSE": "x.duckdb"})


def test_hhp_config_masks_secrets(tmp_path, monkeypatch):
    env = {
        "HHP_HOME": str(tmp_path),
        "HHP_WAREHOUSE": "postgresql://hhp_loader:loader-secret@127.0.0.1:5/hhp",
        "HHP_PSEUDONYM_KEY": "the-key-itself",
        "HHP_PG_ADMIN_URL": "postgresql://owner:owner-secret@127.0.0.1/hhp",
        "HHP_LEAD_PASSWORD": "lead-secret",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    shown = dict((variable, value) for variable, value, _ in masked(load_settings()))
    assert shown["HHP_PSEUDONYM_KEY"] == shown["HHP_LEAD_PASSWORD"] == "<set>"
    assert shown["HHP_WAREHOUSE"] == "postgresql://hhp_loader:****@127.0.0.1:5/hhp"
    assert shown["HHP_PG_ADMIN_URL"] == "postgresql://owner:****@127.0.0.1/hhp"
    out = subprocess.run(
        [sys.executable, "-c", "from pipeline.cli import app; app()", "config"],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, **env, "COLUMNS": "200"},
        check=True,
    ).stdout
    assert "HHP_PSEUDONYM_KEY" in out and "HHP_FAULT_POINT" in out
    for secret in ("loader-secret", "the-key-itself", "owner-secret", "lead-secret"):
        assert secret not in out
