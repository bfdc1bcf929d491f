"""A JSON document's big list, streamed out as JSON Lines in small windows."""

from __future__ import annotations

import json

import pytest

from ingest.adapters import _json_stream
from ingest.adapters._base import FileRejected
from ingest.adapters._json_stream import list_as_json_lines, values_as_json_lines

STATEMENTS = [
    {"id": f"s{n}", "actor": {"mbox": f"mailto:p{n}@org.example"}, "score": n * 1.5, "note": "a,b]}\n"}
    for n in range(1, 40)
]


@pytest.fixture(autouse=True, params=[7, 1 << 20], ids=["tiny windows", "default windows"])
def window(request, monkeypatch):
    monkeypatch.setattr(_json_stream, "CHUNK_CHARS", request.param)


def _split(tmp_path, text: str) -> tuple[list[dict], dict]:
    elements, others, _ = _split_with_lines(tmp_path, text)
    return elements, others


def _split_with_lines(tmp_path, text: str) -> tuple[list[dict], dict, list[int]]:
    source, target = tmp_path / "doc.json", tmp_path / "doc.jsonl"
    source.write_text(text, encoding="utf-8", newline="")
    others, lines = list_as_json_lines(source, "statements", target)
    return [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()], others, lines


def _physical_lines(text: str, opening: str) -> list[int]:
    """The line of every line of text that starts (after indentation) with `opening`."""
    return [n for n, line in enumerate(text.split("\n"), start=1) if line.lstrip().startswith(opening)]


@pytest.mark.parametrize("indent", [None, 2])
def test_every_element_becomes_one_line(tmp_path, indent):
    text = json.dumps({"more": "", "statements": STATEMENTS, "count": 39}, indent=indent)
    elements, others, lines = _split_with_lines(tmp_path, text)
    assert elements == STATEMENTS
    assert others == {"more": "", "count": 39}
    if indent:  # each element starts on the line of its '{', counted from 1
        assert lines == [n for n in _physical_lines(text, "{") if n > 1]
    else:
        assert lines == [1] * len(STATEMENTS)


def test_an_empty_list_gives_no_lines(tmp_path):
    assert _split_with_lines(tmp_path, '{"statements": [], "more": ""}') == ([], {"more": ""}, [])


@pytest.mark.parametrize("line_break", ["\n", "\r\n"])
def test_webhook_bodies_become_one_event_a_line_with_the_line_each_starts_on(tmp_path, line_break):
    """SendGrid posts a JSON array of events; kept raw, a file holds one body after another,
    the events inside joined by ',' and CRLF, beside plain one-event lines."""
    events = [{"email": f"p{n}@org.example", "event": "delivered", "sg_event_id": f"e{n}"} for n in range(5)]
    body = "[" + ("," + line_break).join(json.dumps(e) for e in events[:3]) + "]"
    text = line_break.join([json.dumps(events[3]), body, "", json.dumps(events[4])]) + line_break
    source, target = tmp_path / "events.jsonl", tmp_path / "out.jsonl"
    source.write_text(text, encoding="utf-8", newline="")
    lines = values_as_json_lines(source, target)
    written = [json.loads(line) for line in target.read_text().splitlines()]
    assert written == [events[3], *events[:3], events[4]]
    assert lines == [1, 2, 3, 4, 6]


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ('{"statements": [{"id": 1}, {"id": 2]}', "not valid JSON"),
        ('{"statements": [{"id": 1}, {"id": 2}]', "expected ',' or '}'"),
        ('{"statements": [{"id": 1}, 7]}', "expected element 2 of the list to be an object"),
        ('{"statements": {"id": 1}}', "expected a list"),
        ('{"more": ""}', "expected one document with a 'statements' list"),
        ('[{"id": 1}]', "expected a JSON object"),
        ('{"statements": []} {}', "expected the end of the document"),
        ("", "expected a JSON object"),
    ],
)
def test_a_broken_document_is_refused_with_where(tmp_path, text, phrase):
    with pytest.raises(FileRejected) as refused:
        _split(tmp_path, text)
    assert phrase in refused.value.detail
    assert refused.value.rule == "file structure"
