"""Data releases (docs/instruments.md): a named, immutable set of loaded files with a cut-off
date. On both engines: the report of release interim-1 made again after more files land is
byte for byte the same; after a `data` withdrawal its person is gone from the release too,
and nothing else of it changes; data dated after the cut is not in it; full builds keep it."""

from __future__ import annotations

import csv
import hashlib
from datetime import date, timedelta
from pathlib import Path

import pytest

from hhp.releases import ReleaseRefused
from hhp.warehouse import open_warehouse
from ingest.landing import files_under, open_landing

from .conftest import STUDY, run_hhp, settings_for

CUT = date(2026, 6, 30)  # the interim: after the endline survey, before the follow-up
EARLY = date(2026, 4, 15)  # before the endline: the cut must take out what is loaded
SNAPSHOTS = ("rel_studies", "rel_participants", "rel_outcomes", "rel_engagement")


def _extract(key: str) -> str:
    return key.rsplit("_", 1)[1][:10]


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.csv"))}


def _rows(settings, table: str, release: str) -> list[tuple]:
    with open_warehouse(settings.transformer) as wh:
        columns = [c for (c,) in wh.query(
            "select column_name from information_schema.columns where table_schema = 'releases' "
            "and table_name = %s order by ordinal_position", [table],
        )]  # fmt: skip
        order = ", ".join(str(i + 1) for i in range(len(columns)))
        rows = wh.query(f"select * from releases.{table} where release_name = %s order by {order}", [release])
    return [dict(zip(columns, row, strict=True)) for row in rows]


def _register_data_ids(path: Path) -> set[str]:
    with open(path, newline="", encoding="utf-8") as handle:
        return {row["participant_id"] for row in csv.DictReader(handle) if row["level"] == "data"}


@pytest.fixture(scope="module", params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def staged(request, tmp_path_factory, generated):
    """The study's files in three deliveries: those extracted by the interim (then releases
    interim-1 and early are made and reported), the rest but the last withdrawal register
    (reported again), then that register, which withdraws more people at level data."""
    from pipeline import chain as pipeline

    server = None
    if request.param == "postgres":
        server = request.getfixturevalue("postgres_server").another_database("releases").provision_roles()
    settings = settings_for(tmp_path_factory.mktemp(f"releases_{request.param}"), server)
    files = [(f, k) for f, k in files_under([generated]) if f.name != "truth.json"]
    registers = sorted(k for _, k in files if "/withdrawals/" in k)
    first = [(f, k) for f, k in files if _extract(k) <= CUT.isoformat()]
    later = [(f, k) for f, k in files if (f, k) not in first and k != registers[-1]]
    last = [(f, k) for f, k in files if k == registers[-1]]
    assert first and later and last and len(first) + len(later) + len(last) == len(files)
    landing = open_landing(settings)

    def deliver(batch):
        for file, key in batch:
            landing.put(file, key)
        pipeline.ingest(settings)
        pipeline.build(settings)
        pipeline.gate(settings)

    out: dict = {"settings": settings, "engine": request.param}
    deliver(first)
    with open_warehouse(settings.transformer) as wh:
        out["marts"] = {
            "participants": wh.query(
                "select participant_id, randomised_on, withdrawal_level, withdrawn_on "
                "from marts.dim_participant where study_id = %s", [STUDY],
            ),
            "outcomes": wh.query(
                "select o.participant_id, o.outcome_code, o.timepoint, o.value, o.response_day, "
                "p.randomised_on, s.hr_period_days from marts.fct_outcomes o join marts.dim_participant p "
                "using (study_id, participant_id) join marts.dim_study s using (study_id) "
                "where o.study_id = %s",
                [STUDY],
            ),
            "engagement": wh.query(
                "select e.participant_id, e.contact_no, p.randomised_on from marts.fct_engagement e "
                "join marts.dim_participant p using (study_id, participant_id) "
                "where e.study_id = %s", [STUDY],
            ),
            "loaded": wh.query("select count(*) from ops.landed_files where state = 'loaded'")[0][0],
            "erased": wh.query("select coalesce(sum(participants), 0) from ops.erasures")[0][0],
        }  # fmt: skip
    out["erased_before"] = out["marts"].pop("erased")
    out["interim"] = pipeline.create_release(settings, "interim-1", CUT)
    pipeline.create_release(settings, "early", EARLY)
    out["reports"] = [_digests(pipeline.report(settings, "interim-1").parent)]
    out["before"] = {t: _rows(settings, t, "interim-1") for t in SNAPSHOTS}
    out["early"] = {t: _rows(settings, t, "early") for t in SNAPSHOTS}
    out["flow"] = [_rows(settings, "rel_participant_flow", "interim-1")]

    deliver(later)
    out["reports"].append(_digests(pipeline.report(settings, "interim-1").parent))
    pipeline.build(settings, full=True)  # a full build rebuilds every model but a release's
    out["after_full_build"] = {t: _rows(settings, t, "interim-1") for t in SNAPSHOTS}

    deliver(last)
    out["newly_erased"] = _register_data_ids(last[0][0]) - set().union(
        *(_register_data_ids(f) for f, k in files if "/withdrawals/" in k and k != registers[-1])
    )
    out["reports"].append(_digests(pipeline.report(settings, "interim-1").parent))
    out["reports"].append(_digests(pipeline.report(settings, "interim-1").parent))
    out["after"] = {t: _rows(settings, t, "interim-1") for t in SNAPSHOTS}
    out["flow"].append(_rows(settings, "rel_participant_flow", "interim-1"))
    return out


def test_a_release_report_is_byte_identical_after_more_files_land(staged):
    made, again = staged["reports"][0], staged["reports"][1]
    assert set(made) >= {"effect_estimates.csv", "flow.csv", "sample_ratio.csv", "uptake.csv", "balance.csv"}
    assert made == again
    release = staged["interim"]
    assert (release.name, release.cut_on, release.files) == ("interim-1", CUT, staged["marts"]["loaded"])
    html = (staged["settings"].reports_dir / "releases" / "interim-1" / "programme_report.html").read_text()
    assert f"interim-1, cut {CUT:%Y-%m-%d}" in html


def test_a_full_build_keeps_every_release(staged):
    assert staged["after_full_build"] == staged["before"]
    assert all(staged["before"][t] for t in SNAPSHOTS)


def test_an_erasure_takes_its_people_out_of_the_release_and_nothing_else(staged):
    erased = staged["newly_erased"]
    in_release = {r["participant_id"] for r in staged["before"]["rel_participants"]} & erased
    assert in_release, "the last register erases someone the release holds"
    for table in SNAPSHOTS:
        kept = [r for r in staged["before"][table] if r.get("participant_id") not in erased]
        assert staged["after"][table] == kept, table
    # the flow still counts them as randomised, now as withdrawn (data); the report says the same twice
    before, after = ({(r["flow_stage"], r["arm"]): r["n"] for r in flow} for flow in staged["flow"])
    assert {k: v for k, v in before.items() if k[0] == "randomised"} == {
        k: v for k, v in after.items() if k[0] == "randomised"
    }
    with open_warehouse(staged["settings"].transformer) as wh:
        ((counted,),) = wh.query(
            "select sum(participants) from ops.data_release_erasures where release_name = %s", ["interim-1"]
        )
    assert counted == staged["erased_before"] + len(in_release)
    assert staged["reports"][2] == staged["reports"][3]  # made again, the same


def test_data_dated_after_the_cut_is_not_in_the_release(staged):
    marts, early = staged["marts"], staged["early"]
    randomised_by = {pid for pid, on, *_ in marts["participants"] if on <= EARLY}
    assert {r["participant_id"] for r in early["rel_participants"] if r["study_id"] == STUDY} == randomised_by
    held = {r["participant_id"]: r for r in early["rel_participants"] if r["study_id"] == STUDY}
    later = 0
    for pid, _, level, on in marts["participants"]:
        if pid in held and on is not None:  # a withdrawal after the cut had not happened yet
            assert held[pid]["withdrawn_on"] is None or held[pid]["withdrawn_on"] <= EARLY
            if on <= EARLY:
                assert (held[pid]["withdrawal_level"], held[pid]["withdrawn_on"]) == (level, on)
            else:
                later += 1
                assert held[pid]["withdrawal_level"] != level or held[pid]["withdrawn_on"] != on
    assert later
    values = {
        (r["participant_id"], r["outcome_code"], r["timepoint"]): r["value"] for r in early["rel_outcomes"]
    }
    kept = cut_out = 0
    for pid, code, timepoint, value, day, randomised_on, period in marts["outcomes"]:
        if pid not in randomised_by:
            continue
        dated = randomised_on + timedelta(days=(period - 1) if timepoint == "period" else (day or 0))
        expected = value if value is not None and dated <= EARLY else None
        assert values[pid, code, timepoint] == expected, (pid, code, timepoint)
        kept += expected is not None
        cut_out += value is not None and expected is None
    assert kept and cut_out  # the cut took out loaded data, and left some
    contacts = {(r["participant_id"], r["contact_no"]) for r in early["rel_engagement"]}
    due = {
        (pid, n)
        for pid, n, on in marts["engagement"]
        if pid in randomised_by and on + timedelta(7 * n) <= EARLY
    }
    assert contacts == due and len(due) < len(marts["engagement"])


def test_release_names_and_missing_releases_are_refused_with_a_reason(staged):
    if staged["engine"] != "duckdb":
        pytest.skip("the command line is the same on both engines")
    settings = staged["settings"]
    for name in ("Interim 1", "../outside", "x'; drop table marts.dim_study; --"):
        result = run_hhp(settings, "release", "create", name, "--cut", "2026-06-30")
        assert result.returncode == 1 and "error: release name" in result.stderr, result.stderr
    result = run_hhp(settings, "release", "create", "interim-1", "--cut", "2026-07-31")
    assert result.returncode == 1 and "exists already" in result.stderr, result.stderr
    result = run_hhp(settings, "report", "--release", "interim-2")
    assert result.returncode == 1 and "no data release named 'interim-2'" in result.stderr, result.stderr
    listed = run_hhp(settings, "release", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    import json

    made = {r["name"]: r for r in json.loads(listed.stdout)}
    assert set(made) == {"interim-1", "early"} and made["interim-1"]["cut_on"] == "2026-06-30"


def test_a_study_locks_once_on_a_release_that_holds_it_and_the_report_says_so(staged):
    from pipeline import chain as pipeline

    settings = staged["settings"]
    page = pipeline.report(settings, "interim-1").read_text()
    assert "Interim analysis on release interim-1, cut 2026-06-30; not locked" in page
    refused = {
        "no_such_study": "no study 'no_such_study' in the registry",
        "goal_setting": "holds no participant of goal_setting",  # not in this study's files
    }
    for study, reason in refused.items():
        with pytest.raises(ReleaseRefused, match=reason):
            pipeline.lock(settings, study, "interim-1")
    if staged["engine"] == "duckdb":  # the command, once
        result = run_hhp(settings, "lock", STUDY, "--release", "interim-1")
        assert result.returncode == 0 and f"locked {STUDY} on release interim-1" in result.stdout, (
            result.stderr
        )
        again = run_hhp(settings, "lock", STUDY, "--release", "early")
        assert again.returncode == 1 and "error: " in again.stderr, again.stderr
    else:
        pipeline.lock(settings, STUDY, "interim-1")
    with pytest.raises(ReleaseRefused, match="locked already, on release 'interim-1'"):
        pipeline.lock(settings, STUDY, "early")
    with open_warehouse(settings.transformer) as wh:
        ((release, by, at),) = wh.query(
            "select release_name, locked_by, locked_at from ops.study_locks where study_id = %s", [STUDY]
        )
    assert release == "interim-1" and by and at
    final = pipeline.report(settings, "interim-1").read_text()
    assert f"Final analysis: locked on release interim-1 on {at:%Y-%m-%d %H:%M} UTC by {by}" in final
    current = pipeline.report(settings).read_text()
    assert "Locked on release interim-1" in current and "these figures are not" in current
    # the lock is an event, not data: the release's figures are still the same
    assert _digests(settings.reports_dir / "releases" / "interim-1") == staged["reports"][3]
