"""Keyed pseudonyms (HMAC-SHA256) for direct identifiers, and masking for messages.

A pseudonym is HMAC(key, "<study_id>:<normalised identifier>"): the study prefix keeps
two organisations' employee numbers apart and stops linkage across studies.
"""

from __future__ import annotations

import hashlib
import hmac
import re

import pyarrow as pa
import pyarrow.compute as pc

PSEUDONYM_HEX_CHARS = 32  # 128 bits: no collisions at any realistic workforce size

EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(\.[\w-]+)+")
IPV4 = re.compile(r"\b\d{1,3}(\.\d{1,3}){3}\b")


def pseudonym(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:PSEUDONYM_HEX_CHARS]


def pseudonymise_array(key: bytes, values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Vectorised: each distinct value is hashed once, then taken back into place."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    encoded = pc.dictionary_encode(values)
    hashed = pa.array([pseudonym(key, v) for v in encoded.dictionary.to_pylist()], pa.string())
    return pc.take(hashed, encoded.indices)


def mask_identifiers(text: str) -> str:
    """Mask anything shaped like an email or IP address before it reaches a message or log."""
    text = EMAIL.sub("<email masked>", text)
    return IPV4.sub("<ip masked>", text)
