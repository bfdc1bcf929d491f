"""Rewriting a partner file without an erased participant's records, in each shape a format
comes in: CSV records (a quoted field across lines, CRLF, a byte-order mark, gzip) kept byte
for byte; JSON lines; webhook bodies (arrays across lines); an xAPI statements document. The
spans say what was taken out, in the unit the rows' _row_number counts."""

from __future__ import annotations

import gzip
import json

from hhp.registry import load_registry
from ingest.erasure import without_erased

STUDIES = load_registry()


def _erased(kind_values: dict[str, set[str]]):
    return lambda kind, value: value.strip() in kind_values.get(kind, set())


def test_csv_records_go_whole_and_every_other_byte_stays(tmp_path):
    text = (
        "\ufeffsnapshot_date,employee_number,hire_date,fte,contracted_hours_per_week,org_unit,grade,job_role\r\n"
        '2026-03-31,E100001,2020-01-01,1,37.5,"Unit\r\nwith a break",EO,Analyst\r\n'
        "2026-03-31,E100002,2020-01-01,1,37.5,U2,EO,Analyst\r\n"
        "2026-03-31,E100003,2020-01-01,1,37.5,U3,EO,Analyst\r\n"
    )
    path = tmp_path / "hr_roster_2026-03-31.csv.gz"
    path.write_bytes(gzip.compress(text.encode(), mtime=0))
    content, spans = without_erased(
        path, "hr_roster_csv", STUDIES["mod_ding"], _erased({"employee": {"E100001"}})
    )
    kept = gzip.decompress(content).decode()
    lines = text.split("\r\n")
    assert kept == "\r\n".join([lines[0], lines[3], lines[4], ""])  # the record's two lines went
    assert spans == [(2, 2)]  # from physical line 2, two lines


def test_json_lines_and_webhook_bodies_lose_only_their_records(tmp_path):
    hris = tmp_path / "hris_time_off_2026-06-30.jsonl"
    hris.write_text('{"worker_id": "E1", "time_off": []}\n{"worker_id": "E2", "time_off": []}\n')
    content, spans = without_erased(
        hris, "hris_absence_json", STUDIES["mod_ding"], _erased({"employee": {"E1"}})
    )
    assert content.decode() == '{"worker_id": "E2", "time_off": []}\n' and spans == [(1, 1)]

    bodies = tmp_path / "sendgrid_events_2026-04-01.json"
    first = [{"email": "a@x.example", "event": "delivered"}, {"email": "b@x.example", "event": "open"}]
    second = [{"email": "c@x.example", "event": "delivered"}]
    bodies.write_text(json.dumps(first).replace("}, {", "},\r\n{") + "\r\n" + json.dumps(second) + "\r\n")
    content, spans = without_erased(
        bodies, "sendgrid_events_jsonl", STUDIES["dispatch_stories"], _erased({"email": {"b@x.example"}})
    )
    values = [json.loads(part) for part in content.decode().splitlines() if part.strip()]
    assert values == [first[:1], second] and spans == [(2, 1)]  # the second event of the file


def test_an_xapi_document_loses_the_statements_of_the_erased_actor(tmp_path):
    document = {
        "statements": [
            {"id": "s1", "actor": {"account": {"homePage": "https://lrs.example", "name": "E7"}}},
            {"id": "s2", "actor": {"account": {"homePage": "https://lrs.example", "name": "E8"}}},
            {"id": "s3", "actor": {"account": {"homePage": "https://lrs.example", "name": "E7"}}},
        ],
        "more": "",
    }
    path = tmp_path / "xapi_statements_2026-05-01.json"
    path.write_text(json.dumps(document))
    study = STUDIES["goal_setting"]  # actors are accounts named by the employee number
    content, spans = without_erased(path, "xapi_statements_json", study, _erased({"employee": {"E7"}}))
    rewritten = json.loads(content)
    assert [s["id"] for s in rewritten["statements"]] == ["s2"] and rewritten["more"] == ""
    assert spans == [(1, 1), (3, 1)]
    untouched, none = without_erased(path, "xapi_statements_json", study, _erased({}))
    assert untouched == path.read_bytes() and none == []
