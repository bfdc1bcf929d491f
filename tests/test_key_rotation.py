"""Key rotation: every pseudonym re-keyed, the marts unchanged, links across feeds intact, and
the result the same as loading everything under the new key from the start."""

from __future__ import annotations

import shutil

import pytest

from hhp.pseudonymise import KeyMismatch
from hhp.warehouse import open_warehouse
from ingest.keys import rotate_key
from pipeline import chain as pipeline

from .conftest import ALL_MARTS, VOLATILE_COLUMNS, differing_marts, land_tree, mart_rows, settings_for

OLD_KEY, NEW_KEY = "test-only-key", "the-rotated-key-0123456789"
HELD_BACK = "mod_ding/leavers/hr_leavers_2026-11-09.csv"


def _pseudonyms(settings) -> dict[str, list[str]]:
    """Every value of every *_pseudonym column, by schema.table.column, sorted."""
    with open_warehouse(settings.transformer) as wh:
        columns = wh.query(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where column_name like '%%_pseudonym' and table_schema in ('raw', 'staging', 'intermediate')"
        )
        return {
            f"{schema}.{table}.{column}": sorted(
                v for (v,) in wh.query(f"select {column} from {schema}.{table}") if v is not None
            )
            for schema, table, column in columns
        }


@pytest.fixture
def split_files(generated, tmp_path):
    first, later = tmp_path / "first", tmp_path / "later"
    shutil.copytree(generated, first, ignore=shutil.ignore_patterns("truth.json"))
    (later / HELD_BACK).parent.mkdir(parents=True)
    shutil.move(first / HELD_BACK, later / HELD_BACK)
    return first, later


@pytest.mark.slow
def test_rotation_rekeys_every_pseudonym_and_changes_no_mart(split_files, tmp_path, monkeypatch):
    first, later = split_files
    monkeypatch.setenv("HHP_PSEUDONYM_KEY", OLD_KEY)
    settings = settings_for(tmp_path / "rotated")
    land_tree(settings, first)
    pipeline.ingest(settings)
    pipeline.build(settings)
    before, old_pseudonyms = mart_rows(settings, ALL_MARTS, VOLATILE_COLUMNS), _pseudonyms(settings)

    result = rotate_key(settings, NEW_KEY.encode())
    assert result.files_read > 10 and result.pseudonyms > 1000

    with pytest.raises(KeyMismatch):  # the old key is refused from now on, before any file is touched
        pipeline.ingest(settings)
    monkeypatch.setenv("HHP_PSEUDONYM_KEY", NEW_KEY)
    settings = settings_for(tmp_path / "rotated")  # as the next process would start
    assert pipeline.build(settings) == "full"  # a new key: every model rebuilt from raw
    assert differing_marts(mart_rows(settings, ALL_MARTS, VOLATILE_COLUMNS), before) == []

    new_pseudonyms = _pseudonyms(settings)
    assert new_pseudonyms.keys() == old_pseudonyms.keys() and len(new_pseudonyms) >= 10
    for column, values in new_pseudonyms.items():  # same rows, every value changed
        assert len(values) == len(old_pseudonyms[column]), column
        assert not set(values) & set(old_pseudonyms[column]), column

    # a file landing after the rotation, pseudonymised with the new key, links as before
    land_tree(settings, later)
    assert [r.state for r in pipeline.ingest(settings)] == ["loaded"]
    pipeline.build(settings)

    # the same as loading everything under the new key from the start
    fresh = settings_for(tmp_path / "fresh")
    land_tree(fresh, first)
    land_tree(fresh, later)
    pipeline.ingest(fresh)
    pipeline.build(fresh)
    rotated_marts, fresh_marts = (mart_rows(s, ALL_MARTS, VOLATILE_COLUMNS) for s in (settings, fresh))
    assert differing_marts(rotated_marts, fresh_marts) == []
    assert _pseudonyms(settings) == _pseudonyms(fresh)


def test_rotation_changes_nothing_when_an_archived_file_is_missing(generated, tmp_path):
    settings = settings_for(tmp_path / "home")
    land_tree(settings, generated)
    pipeline.ingest(settings)
    before = _pseudonyms(settings)
    next(settings.home.joinpath("archive").rglob("hr_roster_2026-03-31.csv")).unlink()
    with pytest.raises(FileNotFoundError, match="hr_roster_2026-03-31.csv"):
        rotate_key(settings, NEW_KEY.encode())
    assert _pseudonyms(settings) == before
    assert [r.state for r in pipeline.ingest(settings)] == []  # the old key still works


@pytest.mark.postgres
def test_rotation_on_postgres_as_the_loader(generated, tmp_path, monkeypatch, postgres_server):
    """The same rotation on PostgreSQL, run as hhp_loader (it owns raw), then built as the
    transformer: the marts are unchanged and no old pseudonym is left."""
    server = postgres_server.another_database("hhp_rotation").provision_roles()
    monkeypatch.setenv("HHP_PSEUDONYM_KEY", OLD_KEY)
    settings = settings_for(tmp_path / "pg", server)
    land_tree(settings, generated)
    pipeline.ingest(settings)
    pipeline.build(settings)
    before = mart_rows(settings, ALL_MARTS, VOLATILE_COLUMNS)
    old_pseudonyms = _pseudonyms(settings)

    rotate_key(settings, NEW_KEY.encode())
    monkeypatch.setenv("HHP_PSEUDONYM_KEY", NEW_KEY)
    settings = settings_for(tmp_path / "pg", server)
    assert pipeline.build(settings) == "full"

    assert differing_marts(mart_rows(settings, ALL_MARTS, VOLATILE_COLUMNS), before) == []
    new_pseudonyms = _pseudonyms(settings)
    assert new_pseudonyms.keys() == old_pseudonyms.keys()
    for column, values in new_pseudonyms.items():
        assert len(values) == len(old_pseudonyms[column]) and not set(values) & set(old_pseudonyms[column])


def test_a_demo_key_rotation_killed_after_its_commit_is_finished_by_running_it_again(
    generated, tmp_path, monkeypatch
):
    from hhp.config import pseudonym_key
    from ingest.keys import rotate_demo_key

    monkeypatch.delenv("HHP_PSEUDONYM_KEY")
    settings = settings_for(tmp_path / "home")
    land_tree(settings, generated / "mod_ding" / "allocation")
    pipeline.ingest(settings)
    pending = settings.key_file.with_name(settings.key_file.name + ".pending")
    pending.write_text("the-new-demo-key")
    rotate_key(settings, b"the-new-demo-key")  # committed; then killed before the key file moved

    with pytest.raises(KeyMismatch, match="run `hhp rotate-key` again"):
        pipeline.ingest(settings)
    assert rotate_demo_key(settings) is None  # finishes it: no second rotation
    assert pseudonym_key(settings) == b"the-new-demo-key" and not pending.exists()
    assert pipeline.ingest(settings) == []
    assert rotate_demo_key(settings).files_read == 1  # and a plain one still works
