"""Quarantine as a dead-letter queue: list what is held and why, and release a file back to
the landing area once its cause is fixed (a partner's corrected rule, a registry setting). The
next ingest loads a released file as if it were new; if it is still bad it returns to quarantine
with its new reason. Each release is audited in ops.quarantine_releases."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from hhp import ledger
from hhp.config import Settings
from hhp.errors import ExpectedError
from hhp.pseudonymise import mask_identifiers, shown_safely
from hhp.warehouse import open_warehouse
from ingest.landing import open_landing

log = logging.getLogger(__name__)


class ReleaseRefused(ExpectedError):
    """Nothing was released."""


def held(settings: Settings) -> list[ledger.Quarantined]:
    """Every file in quarantine, oldest first, with its study, feed and reason."""
    with open_warehouse(settings) as wh:
        return ledger.quarantined(wh)


def release(
    settings: Settings, file_keys: Sequence[str], why: str, by: str | None = None
) -> list[ledger.Quarantined]:
    """Send each named file back to the landing area, recording who, when and why. Every key
    must name a file in quarantine, or nothing is released."""
    why = why.strip()
    if not why:
        raise ReleaseRefused("give the reason for the release (--reason), for the audit record")
    by = by or ledger.login()
    landing = open_landing(settings)
    with open_warehouse(settings) as wh:
        ledger.ensure(wh)
        newest = {file.file_key: file for file in ledger.quarantined(wh)}  # oldest first: the newest wins
        unknown = [key for key in file_keys if key not in newest]
        if unknown:
            shown = ", ".join(shown_safely(key) for key in unknown)
            raise ReleaseRefused(f"not in quarantine: {shown} (`hhp quarantine list` shows what is)")
        released = []
        for key in dict.fromkeys(file_keys):
            file = newest[key]
            with wh.transaction():  # the ledger changes only if the file is back in the landing area
                ledger.record_release(wh, file, by, mask_identifiers(why))
                try:
                    landing.release(file.file_key, file.sha256)
                except (FileExistsError, FileNotFoundError) as problem:
                    raise ReleaseRefused(shown_safely(str(problem))) from problem
            log.info("released %s from quarantine", shown_safely(key))
            released.append(file)
    return released
