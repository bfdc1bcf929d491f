import csv
import filecmp
import json

from generator import generate
from hhp.formats import FEEDS
from hhp.instruments import SWEMWBS_METRIC

from .conftest import SEED, STUDY


def _tree(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_layout_is_study_feed_file(generated):
    files = [f for f in _tree(generated) if f != "truth.json"]
    feeds = {f.split("/")[1] for f in files}
    assert feeds == set(FEEDS)
    assert all(len(f.split("/")) == 3 and f.startswith(f"{STUDY}/") for f in files)


def test_same_seed_same_files_other_seed_other_files(generated, tmp_path):
    again = tmp_path / "again"
    generate(again, [STUDY], seed=SEED)
    assert _tree(again) == _tree(generated)
    mismatched = [f for f in _tree(generated) if not filecmp.cmp(generated / f, again / f, shallow=False)]
    assert mismatched == []
    other = tmp_path / "other"
    generate(other, [STUDY], seed=SEED + 1)
    allocation = next(f for f in _tree(generated) if "/allocation/" in f)
    assert not filecmp.cmp(generated / allocation, other / allocation, shallow=False)


def test_scale_multiplies_the_population(tmp_path):
    generate(tmp_path, [STUDY], seed=SEED, scale=0.25)
    (allocation,) = (tmp_path / STUDY / "allocation").glob("*.csv")
    with open(allocation) as handle:
        assert sum(1 for _ in handle) - 1 == 300


def test_truth_records_the_effects_set_in_the_registry(truth):
    from hhp.registry import load_registry

    settings = load_registry()[STUDY].generator
    assert truth[STUDY]["effects"]["SWEMWBS"]["endline"] == settings["effects"]["SWEMWBS"]["endline"]
    assert truth[STUDY]["participants"] == settings["participants"]


def test_allocation_is_balanced_within_strata(generated):
    (allocation,) = (generated / STUDY / "allocation").glob("*.csv")
    with open(allocation, newline="") as handle:
        rows = list(csv.DictReader(handle))
    for stratum in {r["stratum"] for r in rows}:
        arms = [r["arm"] for r in rows if r["stratum"] == stratum]
        # permuted blocks of 4: arms differ by at most 2 within a stratum
        assert abs(arms.count("control") - arms.count("weekly_messages")) <= 2


def test_qualtrics_export_has_three_header_rows_and_choice_text(generated):
    survey = next((generated / STUDY / "survey").glob("*endline*.csv"))
    with open(survey, newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][12] == "ExternalReference"
    assert json.loads(rows[2][0]) == {"ImportId": "StartDate"}
    q1 = rows[0].index("Q1_1")
    assert {r[q1] for r in rows[3:]} <= {
        "",
        "None of the time",
        "Rarely",
        "Some of the time",
        "Often",
        "All of the time",
    }
    assert len(SWEMWBS_METRIC) == 29


def test_the_demo_meets_a_real_export_variant_of_every_format(programme_files):
    """docs/feeds.md: the generator writes, across the five studies, at least one
    real-world variant of each format, so the demo meets them (tests/test_real_exports.py checks
    each loads as its standard form does)."""
    import gzip

    from hhp.registry import load_registry
    from ingest.adapters import ADAPTERS

    registry = load_registry()
    varied = {fmt for study in registry.values() for fmt in study.generator.get("export_variants", {})}
    assert varied == set(ADAPTERS)

    def text(path) -> str:
        content = path.read_bytes()
        return (gzip.decompress(content) if path.name.endswith(".gz") else content).decode("utf-8-sig")

    files = programme_files
    trace = text(next((files / "mod_ding/delivery").iterdir()))
    assert trace.startswith("#TYPE ") and '"PSComputerName"' in trace and ',"09/03/2026 ' in trace
    bodies = text(sorted((files / "dispatch_stories/delivery").iterdir())[-1])
    assert bodies.startswith("[{") and "},\r\n{" in bodies and '"group_unsubscribe"' in bodies
    pages = sorted((files / "goal_setting/delivery").iterdir())
    assert len(pages) == 2 and '"account": {' in text(pages[0]) and '"StatementRef"' in text(pages[1])
    survey = text(next((files / "gratitude_letters/survey").iterdir()))
    assert '"timeZone":"Europe/London"' in survey.replace('""', '"')
    numeric = text(next((files / "tea_coffee/survey").iterdir())).splitlines()[3].split(",")
    assert numeric[2] in ("0", "1") and numeric[6] in ("0", "1")
    assert any(p.name.endswith(".gz") for p in (files / "mod_ding/absence").iterdir())


def test_standard_forms_ignore_the_registrys_variants(tmp_path):
    from generator import generate

    generate(tmp_path, ["mod_ding"], seed=3, scale=0.05, standard_forms=True)
    written = [p for p in (tmp_path / "mod_ding").rglob("*") if p.is_file()]
    assert written and not any(p.name.endswith(".gz") for p in written)
    trace = next((tmp_path / "mod_ding/delivery").iterdir()).read_text(encoding="utf-8")
    assert trace.startswith("Received,SenderAddress,")
