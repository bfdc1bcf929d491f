"""Keyed pseudonyms (HMAC-SHA256) for direct identifiers, and masking for messages.

A pseudonym is HMAC(key, "<study_id>:<normalised identifier>"): the study prefix keeps
two organisations' employee numbers apart and stops linkage across studies.
"""

from __future__ import annotations

import hashlib
import hmac
import re

PSEUDONYM_HEX_CHARS = 32  # 128 bits: no collisions at any realistic workforce size
HMAC_BLOCK = 64  # SHA-256's block size in bytes

EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(\.[\w-]+)+")
IPV4 = re.compile(r"\b\d{1,3}(\.\d{1,3}){3}\b")


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
    inner = bytes(b ^ 0x36 for b in padded).hex()
    outer = bytes(b ^ 0x5C for b in padded).hex()
    return (
        f"create or replace temp macro {name}(value) as "
        f"left(sha256(unhex('{outer}') || unhex(sha256(unhex('{inner}') || encode(value)))), "
        f"{PSEUDONYM_HEX_CHARS})"
    )


def mask_identifiers(text: str) -> str:
    """Mask anything shaped like an email or IP address before it reaches a message or log."""
    text = EMAIL.sub("<email masked>", text)
    return IPV4.sub("<ip masked>", text)
