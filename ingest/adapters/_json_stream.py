"""Read one JSON document's big list without holding the document: a list of any length
streams out as JSON Lines, one element a line, for DuckDB's streaming reader, with the
physical line where each element starts (a reason names that line).

DuckDB reads a JSON document whole (up to maximum_object_size, 16 MiB by default), so a
learning record store's export, `{"statements": [...], "more": ""}`, of a whole
programme would be refused or held in memory. This reads it in chunks with the standard
library's decoder, keeping at most one chunk and one element in memory.
"""

from __future__ import annotations

import json
from pathlib import Path

from ingest.adapters._base import FileRejected

CHUNK_CHARS = 1 << 20
MAX_ELEMENT_CHARS = 16 << 20  # one statement larger than DuckDB's own object limit is not a statement
WHITESPACE = " \t\n\r"


class _Reader:
    """A window on the file's text: `text[pos:]` is what has not been consumed yet."""

    def __init__(self, handle):
        self.handle, self.text, self.pos, self.eof = handle, "", 0, False
        self.consumed = 0  # characters dropped from the front of the window
        self._counted, self._line = 0, 1  # the line at window position _counted

    def line(self) -> int:
        """The physical line (from 1) of the next unconsumed character; positions only move
        forward, so each character is counted once."""
        self._line += self.text.count("\n", self._counted, self.pos)
        self._counted = self.pos
        return self._line

    def more(self) -> bool:
        chunk = self.handle.read(CHUNK_CHARS)
        if not chunk:
            self.eof = True
            return False
        self.line()  # count what the window is about to drop
        self.consumed += self.pos
        self.text, self.pos, self._counted = self.text[self.pos :] + chunk, 0, 0
        return True

    def skip_whitespace(self) -> str:
        """The next significant character ('' at the end of the file), not consumed."""
        while True:
            while self.pos < len(self.text) and self.text[self.pos] in WHITESPACE:
                self.pos += 1
            if self.pos < len(self.text) or not self.more():
                return self.text[self.pos : self.pos + 1]

    def expect(self, characters: str, what: str) -> str:
        found = self.skip_whitespace()
        if not found or found not in characters:
            raise self.error(f"expected {what}")
        self.pos += 1
        return found

    def value(self, decoder: json.JSONDecoder) -> tuple[object, str]:
        """Decode the next JSON value; also return its own text."""
        self.skip_whitespace()
        while True:
            try:
                value, end = decoder.raw_decode(self.text, self.pos)
            except json.JSONDecodeError as problem:
                # the value may go on past the window: read on, within a bound
                if len(self.text) - self.pos < MAX_ELEMENT_CHARS and self.more():
                    continue
                raise self.error(f"not valid JSON ({problem.msg})", problem.pos) from None
            if end == len(self.text) and not self.eof and self.more():
                continue  # a number may have been cut at the window's end
            text = self.text[self.pos : end]
            self.pos = end
            return value, text

    def error(self, message: str, at: int | None = None) -> FileRejected:
        offset = self.consumed + (self.pos if at is None else at)
        return FileRejected("file structure", f"{message} at character {offset}")


def list_as_json_lines(source: Path, key: str, target: Path) -> tuple[dict[str, object], list[int]]:
    """Write each element of the top-level object's list `key` to a line of `target`.

    Returns the object's other members and the physical line where each element starts.
    Raises FileRejected naming the character offset where the document breaks JSON or the
    expected shape.
    """
    decoder = json.JSONDecoder()
    others: dict[str, object] = {}
    lines: list[int] = []
    found = False
    with open(source, encoding="utf-8-sig") as handle, open(target, "w", encoding="utf-8") as out:
        reader = _Reader(handle)
        reader.expect("{", "a JSON object")
        if reader.skip_whitespace() == "}":
            reader.pos += 1
        else:
            while True:
                name, _ = reader.value(decoder)
                if not isinstance(name, str):
                    raise reader.error("expected a member name")
                reader.expect(":", "':'")
                if name == key and not found:
                    found = True
                    _copy_list(reader, decoder, out, lines)
                else:
                    others[name], _ = reader.value(decoder)
                if reader.expect(",}", "',' or '}'") == "}":
                    break
        if reader.skip_whitespace():
            raise reader.error("expected the end of the document")
    if not found:
        raise FileRejected("file structure", f"expected one document with a '{key}' list")
    return others, lines


def values_as_json_lines(source: Path, target: Path) -> list[int]:
    """Write each object of a sequence of JSON values, objects or lists of objects (a webhook's
    request bodies, kept one after another), to a line of `target`.

    Returns the physical line where each object starts.
    """
    decoder = json.JSONDecoder()
    lines: list[int] = []
    with open(source, encoding="utf-8-sig") as handle, open(target, "w", encoding="utf-8") as out:
        reader = _Reader(handle)
        while True:
            found = reader.skip_whitespace()
            if not found:
                return lines
            if found == "[":
                _copy_list(reader, decoder, out, lines)
                continue
            lines.append(reader.line())
            element, text = reader.value(decoder)
            if not isinstance(element, dict):
                raise reader.error("expected an object or a list of objects")
            _write(out, text)


def _write(out, text: str) -> None:
    # JSON allows line breaks only between tokens, where a space does as well
    out.write(text.replace("\r", " ").replace("\n", " "))
    out.write("\n")


def _copy_list(reader: _Reader, decoder: json.JSONDecoder, out, lines: list[int]) -> None:
    reader.expect("[", "a list")
    if reader.skip_whitespace() == "]":
        reader.pos += 1
        return
    number = 0
    while True:
        number += 1
        reader.skip_whitespace()
        lines.append(reader.line())
        element, text = reader.value(decoder)
        if not isinstance(element, dict):
            raise reader.error(f"expected element {number} of the list to be an object")
        _write(out, text)
        if reader.expect(",]", "',' or ']'") == "]":
            return
