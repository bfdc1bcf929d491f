"""Keyed pseudonyms (HMAC-SHA256) for direct identifiers, and masking for messages.

A pseudonym is HMAC(key, "<study_id>:<normalised identifier>"): the study prefix keeps
two organisations' employee numbers apart and stops linkage across studies.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from datetime import UTC, datetime

from hhp.config import ConfigError
from hhp.sql import quote_identifier, quote_literal
from hhp.warehouse import Warehouse

PSEUDONYM_HEX_CHARS = 32  # 128 bits: no collisions at any realistic workforce size
HMAC_BLOCK = 64  # SHA-256's block size in bytes

EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(\.[\w-]+)+")
IPV4 = re.compile(r"\b\d{1,3}(\.\d{1,3}){3}\b")
# two colons or more, and a hex letter or '::' (so that a time of day is not one)
IPV6 = re.compile(r"(?<![\w:])(?=[\w:]*([A-Fa-f]|::))[0-9A-Fa-f]{0,4}(:[0-9A-Fa-f]{0,4}){2,7}(?![\w:])")
EMPLOYEE_NUMBER = re.compile(r"\b[A-Za-z]{1,3}\d{5,}\b")  # E717522; plain counts stay readable
PLACEHOLDER_OR_WORD = re.compile(r"<[a-z ]+ masked>|\w+")
SHOWN_AS_IS = re.compile(r"-?\d{1,4}(\.\d+)?|\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{4}")


def pseudonym(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:PSEUDONYM_HEX_CHARS]


def fingerprint(key: bytes) -> str:
    """Names a key without revealing it: kept in the warehouse so that a run with another key
    (a typo, or the old one after a rotation) is refused instead of breaking every link."""
    return hmac.new(key, b"hhp pseudonym key fingerprint", hashlib.sha256).hexdigest()[:16]


def pseudonym_macro(key: bytes, name: str = "hhp_pseudonym") -> str:
    """`hhp_pseudonym(text)` (or `name`) as a temporary DuckDB macro: the same HMAC-SHA256 (RFC 2104)
    spelt in SQL over DuckDB's own sha256, so it runs in the engine, on every core, with no
    Python per row. The key is in the connection's temporary catalogue only, never in a file."""
    padded = (hashlib.sha256(key).digest() if len(key) > HMAC_BLOCK else key).ljust(HMAC_BLOCK, b"\0")
    inner = quote_literal(bytes(b ^ 0x36 for b in padded).hex())
    outer = quote_literal(bytes(b ^ 0x5C for b in padded).hex())
    return (
        f"create or replace temp macro {quote_identifier(name)}(value) as "
        f"left(sha256(unhex({outer}) || unhex(sha256(unhex({inner}) || encode(value)))), "
        f"{PSEUDONYM_HEX_CHARS})"
    )


# bidirectional controls reorder what a reader sees (a name can show as another): escaped too
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def is_control(character: str) -> bool:
    return unicodedata.category(character) == "Cc" or character in BIDI_CONTROLS


def shown_safely(text: str) -> str:
    """Text as a one-line message may show it: control and bidirectional characters escaped
    (a file name with a line break cannot forge a second log line)."""
    return "".join(
        (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}") if is_control(c) else c for c in text
    )


def mask_identifiers(text: str) -> str:
    """Mask anything shaped like an email, IP address or employee number before it reaches a
    message or log."""
    text = EMAIL.sub("<email masked>", text)
    text = IPV4.sub("<ip masked>", text)
    text = IPV6.sub("<ip masked>", text)
    return EMPLOYEE_NUMBER.sub("<employee number masked>", text)


def masked_example(value: str) -> str:
    """A cell's value as a reason quotes it: a small number or a date as it is (an FTE of 3, a
    hire date in 2031), anything else with only each word's first character, since free text
    may hold a name no pattern finds. The reason's line number leads to the full value, in the
    quarantined file, where only those who may see it can."""
    if SHOWN_AS_IS.fullmatch(value.strip()):
        return value
    return PLACEHOLDER_OR_WORD.sub(
        lambda m: m[0] if m[0].startswith("<") else m[0][0] + "*" * (len(m[0]) - 1), mask_identifiers(value)
    )


# The key in the warehouse's life: its fingerprint (never the key), checked by every load.
KEY_TABLE = "ops.pseudonym_key"
KEY_COLUMNS = [("fingerprint", "text"), ("recorded_at", "timestamp")]


class KeyMismatch(ConfigError):
    """The key given is not the one the warehouse's pseudonyms were made with."""


def check_key(wh: Warehouse, key: bytes, lock: bool = False) -> None:
    """Refuse any key but the warehouse's; the first load records it. With `lock`, inside a
    load's transaction on PostgreSQL, a rotation committing meanwhile is waited for and seen.
    The table is made with the ledger (ensure_key_table)."""
    share = " for share" if lock and wh.engine == "postgres" else ""
    rows = wh.query(f"select fingerprint from {KEY_TABLE}{share}")
    if not rows:
        record_key(wh, key)
    elif rows[0][0] != fingerprint(key):
        raise KeyMismatch(
            "HHP_PSEUDONYM_KEY is not the key this warehouse's pseudonyms were made with "
            f"(fingerprint {fingerprint(key)}, the warehouse's {rows[0][0]}); after `hhp rotate-key`, "
            "set the new key (with the demo key, run `hhp rotate-key` again to finish one interrupted)"
        )


def current_fingerprint(wh: Warehouse) -> str:
    if not wh.table_exists("ops", "pseudonym_key"):
        return ""
    rows = wh.query(f"select fingerprint from {KEY_TABLE}")
    return rows[0][0] if rows else ""


def record_key(wh: Warehouse, key: bytes) -> None:
    """The one row, updated in place: a load waiting on it (for share) then sees the new key."""
    values = [fingerprint(key), datetime.now(UTC).replace(tzinfo=None)]
    if wh.query(f"select count(*) from {KEY_TABLE}")[0][0]:
        wh.execute(f"update {KEY_TABLE} set fingerprint = %s, recorded_at = %s", values)
    else:
        wh.execute(f"insert into {KEY_TABLE} (fingerprint, recorded_at) values (%s, %s)", values)


def ensure_key_table(wh: Warehouse) -> None:
    wh.ensure_table(KEY_TABLE, KEY_COLUMNS)
