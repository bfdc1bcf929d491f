"""Real partners' exports (docs/feeds.md) load the same rows as the same data in
the standard form: columns by name, columns the feed does not need left unread, each system's
own variants, gzip, and no timestamp read in the host's zone."""

from __future__ import annotations

import csv
import io
import json
import logging
from pathlib import Path

import pytest

from hhp.pseudonymise import pseudonym
from hhp.registry import RegistryError
from hhp.warehouse import open_warehouse
from ingest.landing import open_landing
from pipeline.chain import ingest as ingest_pending

from . import fixtures_real_exports as fx
from .conftest import settings_for
from .test_no_identifiers import _text_columns

KEY = b"test-only-key"
LINEAGE = ("_file_key", "_file_sha256", "_row_number", "_ingested_at")


def _home(tmp_path, name: str, feed: str, spec: dict, monkeypatch):
    """A platform home whose registry holds only the fixture study, with `feed` as `spec` says."""
    studies = tmp_path / name / "studies"
    studies.mkdir(parents=True)
    (studies / f"{fx.STUDY}.yml").write_text(fx.registry(feed, spec))
    monkeypatch.setenv("HHP_STUDIES", str(studies))
    return settings_for(tmp_path / name / "home")


def _land(settings, feed: str, name: str, content: bytes) -> str:
    key = f"{fx.STUDY}/{feed}/{name}"
    target = Path(settings.landing) / key
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    return key


def _load(tmp_path, name, feed, spec, files: list[tuple[str, bytes]], monkeypatch, allocation=None):
    """Ingest the allocation and then `files` into a fresh home: (settings, {key: result})."""
    settings = _home(tmp_path, name, feed, spec, monkeypatch)
    _land(
        settings, "allocation", "allocation_2026-03-02.csv", allocation or fx.csv_text(fx.ALLOCATION).encode()
    )
    results = {r.file_key: r for r in ingest_pending(settings)}
    keys = [_land(settings, feed, file_name, content) for file_name, content in files]
    results |= {r.file_key: r for r in ingest_pending(settings)}
    for key in keys:
        assert results[key].state == "loaded", results[key].reason
    return settings, results


def _raw(settings, fmt: str, keys=None) -> list[tuple]:
    """Every raw row of the format (of those files), without lineage, in a stable order."""
    with open_warehouse(settings) as wh:
        columns = [
            c for (c,) in wh.query(
                "select column_name from information_schema.columns where table_schema = 'raw' "
                "and table_name = %s order by ordinal_position", [fmt],
            ) if c not in LINEAGE
        ]  # fmt: skip
        rows = wh.query(f"select {', '.join(columns)}, _file_key from raw.{fmt}")
    return sorted(tuple(r[:-1]) for r in rows if keys is None or r[-1] in keys)


def _ledger(settings, key: str) -> dict:
    with open_warehouse(settings) as wh:
        (row,) = wh.query(
            "select rows_loaded, rows_skipped, undeclared_columns, notes from ops.landed_files "
            "where file_key = %s",
            [key],
        )
    return {
        "rows": row[0],
        "skipped": row[1],
        "undeclared": json.loads(row[2] or "[]"),
        "notes": row[3] or "",
    }


@pytest.mark.parametrize("variant", fx.VARIANTS, ids=[v.name for v in fx.VARIANTS])
def test_a_real_export_loads_what_its_standard_form_does(variant, tmp_path, monkeypatch):
    standard_name = f"{variant.file_name}_2026-05-31{variant.ending.removesuffix('.gz')}"
    standard, _ = _load(tmp_path, "standard", variant.feed, variant.standard_spec,
                        [(standard_name, variant.standard.encode())], monkeypatch)  # fmt: skip
    name = f"{variant.file_name}_2026-05-31{variant.ending}"
    real, results = _load(
        tmp_path, "real", variant.feed, variant.spec, [(name, variant.variant)], monkeypatch
    )

    expected = _raw(standard, variant.fmt)
    assert expected, "the standard form loads rows"
    assert _raw(real, variant.fmt) == expected
    ledger = _ledger(real, f"{fx.STUDY}/{variant.feed}/{name}")
    assert ledger["rows"] == len(expected)
    assert ledger["skipped"] == variant.skipped
    standard_undeclared = _ledger(standard, f"{fx.STUDY}/{variant.feed}/{standard_name}")["undeclared"]
    assert sorted(ledger["undeclared"]) == sorted({*standard_undeclared, *variant.undeclared})
    if variant.note:
        assert variant.note in ledger["notes"]


def _standard_and_real_csv(rows: list[list[str]], header_rows: int = 1) -> tuple[bytes, bytes]:
    """The rows as the standard form, and as a real export: columns reversed, two more columns
    holding an email and an employee number, a byte-order mark and CRLF line ends."""
    headers, data = rows[:header_rows], rows[header_rows:]
    real = [[*reversed(h), "Personal Email", "Staff Number"] for h in headers]
    real += [[*reversed(row), fx.HIDDEN_EMAIL, fx.HIDDEN_NUMBER] for row in data]
    return fx.csv_text(rows).encode(), fx.bom_crlf(fx.csv_text(real))


def _every_text_cell(settings) -> str:
    with open_warehouse(settings) as wh:
        return "\n".join(
            str(value)
            for schema, table, column in _text_columns(wh)
            for (value,) in wh.query(f'select distinct "{column}" from {schema}."{table}"')
            if value is not None
        )


@pytest.mark.parametrize("case", fx.CSV_FORMATS, ids=[c[1] for c in fx.CSV_FORMATS])
def test_every_csv_format_reads_columns_by_name_and_never_an_undeclared_one(
    case, tmp_path, monkeypatch, caplog
):
    feed, fmt, spec, rows, name, header_rows = case
    caplog.set_level(logging.DEBUG)
    plain, real = _standard_and_real_csv(rows, header_rows)
    if fmt == "allocation_csv":  # the allocation itself: shuffled, as the real one
        standard = _home(tmp_path, "standard", feed, spec, monkeypatch)
        _land(standard, feed, f"{name}_2026-03-02.csv", plain)
        ingest_pending(standard)
        settings = _home(tmp_path, "real", feed, spec, monkeypatch)
        key = _land(settings, feed, f"{name}_2026-03-02.csv", real)
        (result,) = ingest_pending(settings)
        assert result.state == "loaded", result.reason
    else:
        standard, _ = _load(
            tmp_path, "standard", feed, spec, [(f"{name}_2026-05-31.csv", plain)], monkeypatch
        )
        settings, results = _load(
            tmp_path, "real", feed, spec, [(f"{name}_2026-05-31.csv", real)], monkeypatch
        )
        key = f"{fx.STUDY}/{feed}/{name}_2026-05-31.csv"

    assert _raw(settings, fmt) == _raw(standard, fmt) != []
    assert _ledger(settings, key)["undeclared"] == ["Personal Email", "Staff Number"]
    everything = _every_text_cell(settings) + "\n".join(r.getMessage() for r in caplog.records)
    assert fx.HIDDEN_EMAIL not in everything and fx.HIDDEN_NUMBER not in everything

    # a broken row in the same file: the reason names it, never the extra columns' values
    broken = real.decode("utf-8-sig").split("\r\n")
    broken[header_rows + 1] = broken[header_rows + 1].replace(
        fx.HIDDEN_EMAIL, fx.HIDDEN_EMAIL + ",one too many"
    )
    key = _land(settings, feed, f"{name}_2026-06-01.csv", "\r\n".join(broken).encode())
    (result,) = [r for r in ingest_pending(settings) if r.file_key == key]
    assert result.state == "quarantined" and f"line {header_rows + 2}: expected" in result.reason, (
        result.reason
    )
    assert fx.HIDDEN_EMAIL not in result.reason and fx.HIDDEN_NUMBER not in result.reason
    assert fx.HIDDEN_EMAIL not in _every_text_cell(settings)


def test_a_missing_declared_column_still_rejects_the_file(tmp_path, monkeypatch):
    settings, _ = _load(tmp_path, "home", "absence", {"format": "esr_absence_csv"}, [], monkeypatch)
    rows = [[c for c in row[:3] + row[4:]] for row in fx.ESR]  # no 'Absence Start Date'
    key = _land(settings, "absence", "esr_absence_2026-05-31.csv", fx.csv_text(rows).encode())
    (result,) = ingest_pending(settings)
    assert result.file_key == key and result.state == "quarantined"
    assert "missing column(s) 'Absence Start Date'" in result.reason and "rule: columns" in result.reason


def test_an_anonymised_qualtrics_export_is_refused_for_what_it_is(tmp_path, monkeypatch):
    settings, _ = _load(tmp_path, "home", "survey", fx.QUALTRICS_SPEC, [], monkeypatch)
    rows = list(csv.reader(io.StringIO(fx.qualtrics())))
    at = rows[0].index("ExternalReference")
    anonymised = fx.csv_text([r[:at] + r[at + 1 :] for r in rows]).encode()
    _land(settings, "survey", "wellbeing_2026-05-31.csv", anonymised)
    (result,) = ingest_pending(settings)
    assert result.state == "quarantined"
    assert "missing column(s) 'ExternalReference'" in result.reason and "anonymised" in result.reason


def test_times_come_out_in_utc_whatever_zone_the_export_declares(tmp_path, monkeypatch):
    """The declared zone is applied, not only ignored alike: Denver's 01:00 in March is 08:00 UTC,
    London's 11:02 in May (summer time) is 10:02 UTC and its 09:30 in March is 09:30 UTC."""
    denver = fx.qualtrics(zone="America/Denver").encode()
    settings, _ = _load(tmp_path, "q", "survey", fx.QUALTRICS_SPEC, [("wellbeing_2026-05-31.csv", denver)],
                        monkeypatch)  # fmt: skip
    with open_warehouse(settings) as wh:
        started = wh.query("select participant_id, started_at from raw.qualtrics_csv order by 1")
    assert [str(t) for _, t in started] == [
        "2026-02-27 15:45:05",
        "2026-03-01 08:00:00",
        "2026-03-01 09:10:00",
    ]

    london = fx.redcap(zone="Europe/London").encode()
    spec = {**fx.REDCAP_SPEC, "time_zone": "Europe/London"}
    settings, _ = _load(
        tmp_path, "r", "survey", spec, [("redcap_export_2026-05-31.csv", london)], monkeypatch
    )
    with open_warehouse(settings) as wh:
        recorded = wh.query("select recorded_at from raw.redcap_csv where recorded_at is not null order by 1")
    assert [str(t) for (t,) in recorded] == ["2026-03-01 09:30:00", "2026-05-04 10:02:00"]


@pytest.mark.parametrize(
    ("identifier", "holds", "column"),
    [
        ("account", "employee_number", "employee_pseudonym"),
        ("mbox_sha1sum", "email", "mbox_sha1sum_pseudonym"),
    ],
)
def test_xapi_actors_named_otherwise_link_to_the_same_people(
    identifier, holds, column, tmp_path, monkeypatch
):
    spec = {**fx.XAPI_SPEC, "actor_identifier": identifier, "account_name": holds}
    document = fx.xapi(identifier, holds).encode()
    settings, _ = _load(tmp_path, "x", "delivery", spec, [("xapi_statements_2026-05-31.json", document)],
                        monkeypatch)  # fmt: skip
    with open_warehouse(settings) as wh:
        linked = wh.query(
            f"select s.statement_id, a.participant_id, s.email_pseudonym from raw.xapi_statements_json s "
            f"join raw.allocation_csv a on s.{column} = a.{column} order by 1"
        )
    by_statement = {statement: person for statement, person, _ in linked}
    assert by_statement == {s[0]: fx.PEOPLE[s[1]][0] for s in fx.XAPI_STATEMENTS}
    assert all(email is None for _, _, email in linked)
    if identifier == "account":  # the pseudonym of the employee number, as every HR feed's
        assert pseudonym(KEY, f"{fx.STUDY}:E100002") in {r[0] for r in _pseudonyms(settings, column)}


def _pseudonyms(settings, column):
    with open_warehouse(settings) as wh:
        return wh.query(f"select distinct {column} from raw.xapi_statements_json")


def test_a_reasons_line_is_the_physical_line_in_the_file(tmp_path, monkeypatch):
    """After a quoted field holding line breaks, and in JSON Lines with a blank line."""
    rows = list(csv.reader(io.StringIO(fx.qualtrics(extras=True))))
    # the second response is record 5; a question text and the first response's answer each
    # hold a line break, so it starts on line 7
    rows[4][rows[0].index("Q1_2")] = "7"
    settings, _ = _load(tmp_path, "q", "survey", fx.QUALTRICS_SPEC, [], monkeypatch)
    _land(settings, "survey", "wellbeing_2026-05-31.csv", fx.csv_text(rows, "\r\n").encode())
    (result,) = ingest_pending(settings)
    assert result.state == "quarantined" and ": line 7: " in result.reason, result.reason

    text = fx.jsonl(fx.HRIS).replace("\n", "\n\n", 1).replace('"2026-04-20"', '"20/04/2026"')
    settings, _ = _load(tmp_path, "h", "absence", fx.HRIS_SPEC, [], monkeypatch)
    _land(settings, "absence", "hris_time_off_2026-05-31.jsonl", text.encode())
    (result,) = ingest_pending(settings)
    assert result.state == "quarantined" and ": line 3: " in result.reason, result.reason

    bodies = fx.webhook_bodies([*fx.SENDGRID_EVENTS[:3], {**fx.SENDGRID_EVENTS[3], "timestamp": "soon"}], 2)
    settings, _ = _load(tmp_path, "s", "delivery", fx.SENDGRID_SPEC, [], monkeypatch)
    _land(settings, "delivery", "sendgrid_events_2026-05-31.jsonl", bodies.encode())
    (result,) = ingest_pending(settings)
    assert result.state == "quarantined" and ": line 4: event 4: " in result.reason, result.reason


def test_a_file_that_is_not_gzip_inside_is_refused_for_that(tmp_path, monkeypatch):
    settings, _ = _load(tmp_path, "h", "absence", fx.HRIS_SPEC, [], monkeypatch)
    _land(settings, "absence", "hris_time_off_2026-05-31.jsonl.gz", fx.gz(fx.jsonl(fx.HRIS))[:40])
    (result,) = ingest_pending(settings)
    assert result.state == "quarantined" and "not a complete gzip file" in result.reason, result.reason


def _real_csv(rows: list[list[str]]) -> str:
    """Columns reversed, two columns the feed does not need."""
    header, *data = rows
    return fx.csv_text([[*reversed(header), "Cost Centre", "Exported By"]]
                       + [[*reversed(r), "CC4001", "hr.reporting"] for r in data])  # fmt: skip


# study -> (standard feeds, real feeds, {feed: (file name, standard content, real content)})
PROGRAMME = {
    "fa": (
        {"delivery": fx.EXCHANGE_SPEC, "survey": fx.QUALTRICS_SPEC, "absence": {"format": "esr_absence_csv"}},
        {"delivery": {**fx.EXCHANGE_SPEC, "received_locale": "UK"}, "survey": fx.QUALTRICS_SPEC,
         "absence": {"format": "esr_absence_csv"}},
        [("delivery", "message_trace_2026-05-31.csv", fx.csv_text(fx.EXCHANGE).encode(),
          fx.powershell_export([fx.EXCHANGE_HEADER] + [[fx.EXCHANGE_UK_RECEIVED[r[0]], *r[1:]]
                                                       for r in fx.EXCHANGE[1:]]).encode()),
         ("survey", "wellbeing_2026-05-31.csv", fx.qualtrics().encode(),
          fx.qualtrics(numeric=True, zone="America/Denver", extras=True).encode()),
         ("absence", "esr_absence_2026-05-31.csv", fx.csv_text(fx.ESR).encode(), fx.gz(_real_csv(fx.ESR)))],
    ),
    "fb": (
        {"delivery": fx.SENDGRID_SPEC, "survey": fx.REDCAP_SPEC, "absence": fx.HRIS_SPEC},
        {"delivery": fx.SENDGRID_SPEC, "absence": fx.HRIS_SPEC,
         "survey": {**fx.REDCAP_SPEC, "record_id_field": "study_id", "time_zone": "Europe/London"}},
        [("delivery", "sendgrid_events_2026-05-31.jsonl", fx.jsonl(fx.SENDGRID_EVENTS).encode(),
          fx.gz(fx.webhook_bodies(fx.SENDGRID_EVENTS + fx.SENDGRID_UNUSED, 3))),
         ("survey", "redcap_export_2026-05-31.csv", fx.redcap().encode(),
          fx.redcap("study_id", seconds=True, survey_fields=True, access_groups=True, other_forms=True,
                    zone="Europe/London").encode()),
         ("absence", "hris_time_off_2026-05-31.jsonl", fx.jsonl(fx.HRIS).encode(),
          fx.gz(fx.bom_crlf(fx.jsonl(fx.HRIS)).decode("utf-8")))],
    ),
    "fc": (
        {"delivery": fx.XAPI_SPEC},
        {"delivery": {**fx.XAPI_SPEC, "actor_identifier": "account"}},
        [("delivery", "xapi_statements_2026-05-31.json", fx.xapi().encode(),
          fx.xapi("account", offsetless=True, more="/xapi/statements?more=2", extra_properties=True,
                  extra=[fx.mistaken_completion("account")]).encode())],
    ),
    "fd": (
        {"delivery": {"format": "postal_dispatch_csv"}},
        {"delivery": {"format": "postal_dispatch_csv"}},
        [("delivery", "postal_dispatch_2026-05-31.csv", fx.csv_text(fx.POSTAL).encode(),
          fx.bom_crlf(_real_csv(fx.POSTAL)))],
    ),
}  # fmt: skip
STAGING_LINEAGE = ("source_file_key", "source_row_number", "ingested_at", "voided_by_file_key",
                   "voided_by_row_number", "voided_by_ingested_at", "built_at")  # fmt: skip


def _programme_home(tmp_path, name: str, real: bool, monkeypatch):
    """Four fixture studies, their files landed (standard or real) and loaded, staging built."""
    from transform.dbt import run_dbt

    studies = tmp_path / name / "studies"
    studies.mkdir(parents=True)
    for study_id, (standard_feeds, real_feeds, _) in PROGRAMME.items():
        text = fx.study_registry(study_id, real_feeds if real else standard_feeds)
        (studies / f"{study_id}.yml").write_text(text)
    monkeypatch.setenv("HHP_STUDIES", str(studies))
    settings = settings_for(tmp_path / name / "home")
    allocation = fx.bom_crlf(_real_csv(fx.ALLOCATION)) if real else fx.csv_text(fx.ALLOCATION).encode()
    for study_id, (_, _, files) in PROGRAMME.items():
        for feed, file_name, standard, real_content in [("allocation", "allocation_2026-03-02.csv",
                                                         b"", allocation), *files]:  # fmt: skip
            content = (real_content if real else standard) or allocation
            suffix = ".gz" if real and content[:2] == b"\x1f\x8b" else ""
            target = Path(settings.landing) / study_id / feed / (file_name + suffix)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
    if real:  # the store's later export voids the completion recorded in error
        target = Path(settings.landing) / "fc" / "delivery" / "xapi_statements_2026-06-07.json"
        target.write_bytes(fx.voiding().encode())
    results = ingest_pending(settings)
    assert [r.reason for r in results if r.state != "loaded"] == []
    run_dbt(settings, "run", "--select", "staging", "int_delivery_events_linked", "--exclude", "tag:release")
    return settings


def _staging(settings) -> dict[str, list[tuple]]:
    from .conftest import mart_rows

    with open_warehouse(settings) as wh:
        models = [t for (t,) in wh.query(
            "select table_name from information_schema.tables "
            "where table_schema = 'staging' order by 1")]  # fmt: skip
    models.append("intermediate.int_delivery_events_linked")
    return mart_rows(settings, [m if "." in m else f"staging.{m}" for m in models], STAGING_LINEAGE)


@pytest.mark.slow
def test_real_exports_give_the_staging_rows_the_standard_forms_do(tmp_path, monkeypatch):
    standard = _staging(_programme_home(tmp_path, "standard", False, monkeypatch))
    real_settings = _programme_home(tmp_path, "real", True, monkeypatch)
    real = _staging(real_settings)
    assert set(real) == set(standard)
    assert len([m for m in standard if standard[m]]) >= 10, "every format's staging model has rows"

    # the completion recorded in error and voided in a later file: listed as voided, traced to the
    # voiding statement, never counted
    voided = [r for r in real["staging.stg_xapi__statements"] if fx.MISTAKEN in r]
    assert len(voided) == 1
    real["staging.stg_xapi__statements"].remove(voided[0])
    events = real["intermediate.int_delivery_events_linked"]
    assert [e for e in events if "voided" in e and "FX-003" in e]
    real["intermediate.int_delivery_events_linked"] = [e for e in events if "voided" not in e]
    for model in standard:
        assert real[model] == standard[model], model
    with open_warehouse(real_settings) as wh:
        (lineage,) = wh.query(
            "select voided_by_statement_id, voided_by_file_key from staging.stg_xapi__statements "
            "where statement_id = %s", [fx.MISTAKEN],
        )  # fmt: skip
    assert lineage == ("e2b1f6a4-5c3d-4e8f-9a0b-1c2d3e4f5a6b", "fc/delivery/xapi_statements_2026-06-07.json")


def test_a_value_from_a_closed_list_is_shown_as_it_is(tmp_path, monkeypatch):
    """A status or event name holds nothing personal: a reason quotes it whole, where free text
    is shown only by its words' first letters."""
    rows = [list(r) for r in fx.EXCHANGE]
    rows[2][rows[0].index("Status")] = "Deliverd"
    settings, _ = _load(tmp_path, "x", "delivery", fx.EXCHANGE_SPEC, [], monkeypatch)
    _land(settings, "delivery", "message_trace_2026-05-31.csv", fx.csv_text(rows).encode())
    (result,) = ingest_pending(settings)
    assert result.state == "quarantined" and ": line 3: column 'status'" in result.reason, result.reason
    assert "(e.g. 'Deliverd')" in result.reason

    rows = [list(r) for r in fx.ESR]
    rows[1][rows[0].index("Absence Reason")] = "Flu caught from Jane Doe"  # free text: masked
    settings, _ = _load(tmp_path, "e", "absence", {"format": "esr_absence_csv"}, [], monkeypatch)
    _land(settings, "absence", "esr_absence_2026-05-31.csv", fx.csv_text(rows).encode())
    (result,) = ingest_pending(settings)
    assert result.state == "quarantined" and "Jane" not in result.reason and "F** c*****" in result.reason


def test_a_decompression_bomb_is_refused_before_it_fills_the_disk(tmp_path, monkeypatch):
    import gzip

    from ingest.adapters import _base

    monkeypatch.setattr(_base, "GZIP_FREE_BYTES", 1 << 20)
    settings, _ = _load(tmp_path, "h", "absence", fx.HRIS_SPEC, [], monkeypatch)
    bomb = gzip.compress(fx.jsonl(fx.HRIS).encode() + b" " * (64 << 20), mtime=0)  # 64 MiB in ~65 KiB
    _land(settings, "absence", "hris_time_off_2026-05-31.jsonl.gz", bomb)
    (result,) = ingest_pending(settings)
    assert result.state == "quarantined" and "decompression bomb" in result.reason, result.reason


def test_a_time_zone_the_registry_gets_wrong_stops_ingest_and_quarantines_nothing(tmp_path, monkeypatch):
    """A registry mistake is the platform's, not the partner's: ingest refuses to start, naming
    it, and the partner's file waits in the landing area."""
    spec = {**fx.REDCAP_SPEC, "time_zone": "Europe/Londres'; drop table x; --"}
    settings = _home(tmp_path, "r", "survey", spec, monkeypatch)
    key = _land(settings, "survey", "redcap_export_2026-05-31.csv", fx.redcap().encode())
    with pytest.raises(RegistryError) as refused:
        ingest_pending(settings)
    assert str(refused.value) == (
        "fx.yml: feeds.survey.time_zone: 'Europe/Londres'; drop table x; --' is not an IANA time zone "
        "(e.g. Europe/London)"
    )
    assert [f.key for f in open_landing(settings).list()] == [key]
    assert open_landing(settings).quarantined() == []


@pytest.mark.slow
def test_a_completion_voided_in_a_later_file_stops_counting_in_an_incremental_build(tmp_path, monkeypatch):
    """The voiding statement comes after the marts were built: the incremental build takes the
    completion back, as a full rebuild does, and lineage points at the voiding statement."""
    from pipeline import chain as pipeline
    from transform.dbt import run_dbt

    from .conftest import mart_rows

    spec = {**fx.XAPI_SPEC, "actor_identifier": "account"}
    document = fx.xapi("account", extra=[fx.mistaken_completion("account")]).encode()
    settings, _ = _load(tmp_path, "x", "delivery", spec, [("xapi_statements_2026-05-31.json", document)],
                        monkeypatch)  # fmt: skip
    pipeline.build(settings)

    def completed() -> dict[int, bool]:
        with open_warehouse(settings) as wh:
            rows = wh.query(
                "select contact_no, is_completed from marts.fct_engagement where participant_id = 'FX-003'"
            )
        return dict(rows)

    assert completed()[2] is True
    _land(settings, "delivery", "xapi_statements_2026-06-07.json", fx.voiding().encode())
    assert [r.state for r in ingest_pending(settings)] == ["loaded"]
    assert pipeline.build(settings) != "nothing new"
    assert completed()[2] is False
    marts = ("fct_engagement", "intermediate.int_delivery_events_linked")
    incremental = mart_rows(settings, marts, ("refreshed_through", "built_at"))
    run_dbt(settings, "build", "--full-refresh")
    assert mart_rows(settings, marts, ("refreshed_through", "built_at")) == incremental
    with open_warehouse(settings) as wh:
        (traced,) = wh.query(
            "select source_file_key from intermediate.int_delivery_events_linked where event = 'voided'"
        )
    assert traced == ("fx/delivery/xapi_statements_2026-06-07.json",)
