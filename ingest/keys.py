"""Rotation of the pseudonym key (its fingerprint and the check each load makes are in
hhp.pseudonymise).

Rotation re-keys every pseudonym consistently without the old identifiers ever entering the
warehouse: each loaded file is read again from the archive, the identifiers' normalised forms
give old -> new pairs (HMAC under each key), and every pseudonym column of every raw table is
rewritten through that mapping in one transaction, with the new key's fingerprint. The models
are then rebuilt in full (the fingerprint is part of what a build compares with the last).
"""

from __future__ import annotations

import logging
import secrets
import tempfile
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from hhp.config import ConfigError, Settings, pseudonym_key
from hhp.errors import ExpectedError
from hhp.ledger import archived_sha256
from hhp.pseudonymise import check_key, current_fingerprint, fingerprint, pseudonym_macro, record_key
from hhp.registry import load_registry
from hhp.warehouse import Warehouse, open_warehouse
from ingest.adapters import ADAPTERS
from ingest.adapters._base import ParseConnection, ParseContext, run_checks, stage_file
from ingest.landing import LandedFile, open_landing
from ingest.service import identify

log = logging.getLogger(__name__)

MAPPING_TABLE = "ops.key_rotation"  # exists only inside the rotation's transaction


class RotationRefused(ExpectedError):
    """Rotation would leave a pseudonym without its new value; nothing was changed."""


def pseudonym_columns(fmt: str) -> list[str]:
    return [name for name, _ in ADAPTERS[fmt].COLUMNS if name.endswith("_pseudonym")]


@dataclass
class Rotation:
    files_read: int = 0
    pseudonyms: int = 0  # distinct identifiers re-keyed
    rows_rekeyed: dict[str, int] = field(default_factory=dict)  # raw.<format>.<column> -> rows


def rotate_key(settings: Settings, new_key: bytes) -> Rotation:
    """Re-key every pseudonym in raw from the current key to `new_key`, all or nothing."""
    old_key = pseudonym_key(settings)
    if new_key == old_key:
        raise ConfigError("the new key is the key already in use")
    registry, landing, result = load_registry(), open_landing(settings), Rotation()
    with open_warehouse(settings) as wh:
        check_key(wh, old_key)
        files = wh.query(
            "select file_key, sha256, format from ops.landed_files "
            "where state = 'loaded' and rows_loaded > 0 order by processed_at"
        )
        pairs = []
        for file_key, sha, fmt in files:
            if not pseudonym_columns(fmt):
                continue
            with (
                landing.archived_copy(file_key, archived_sha256(wh, file_key, sha), sha) as path,
                tempfile.TemporaryDirectory(prefix="hhp-rotate-") as work,
            ):
                study, feed, _, extract_date = identify(LandedFile(file_key, 0), registry)
                staged = stage_file(path, Path(work))
                ctx = ParseContext(None, staged, file_key, study, feed, extract_date, Path(work))
                pairs.append(_pairs(ctx, fmt, old_key, new_key))
            result.files_read += 1
        mapping = _distinct(pairs)
        result.pseudonyms = mapping.num_rows
        with wh.transaction():
            # the new key first: from here loads wait, then see it and are refused (PostgreSQL);
            # a load already past its check commits first, and any identifier it brought
            # without an archived pair makes _rekey refuse the rotation
            record_key(wh, new_key)
            wh.ensure_table(MAPPING_TABLE, [("old", "text"), ("new", "text")])
            wh.insert_arrow(MAPPING_TABLE, mapping)
            for fmt in ADAPTERS:
                for column in pseudonym_columns(fmt):
                    result.rows_rekeyed[f"raw.{fmt}.{column}"] = _rekey(wh, f"raw.{fmt}", column)
            wh.execute(f"drop table {MAPPING_TABLE}")
    log.info("re-keyed %d pseudonyms from %d archived files", result.pseudonyms, result.files_read)
    return result


def rotate_demo_key(settings: Settings) -> Rotation | None:
    """Rotation of the local demo key, which lives in a file: the new key is written beside the
    old before the rotation commits and put in its place after, so that a process killed in
    between is finished by running this again (returns None then)."""
    pending = settings.key_file.with_name(settings.key_file.name + ".pending")
    if pending.exists():
        with open_warehouse(settings) as wh:
            committed = current_fingerprint(wh) == fingerprint(pending.read_text().encode())
        if committed:
            pending.replace(settings.key_file)
            return None
        pending.unlink()  # the rotation it was for never committed
    new_key = secrets.token_hex(32)
    pending.touch(mode=0o600)
    pending.write_text(new_key)
    result = rotate_key(settings, new_key.encode())
    pending.replace(settings.key_file)
    return result


def _pairs(ctx: ParseContext, fmt: str, old_key: bytes, new_key: bytes) -> pa.Table:
    """(old, new) for every identifier in one archived file: the adapter's own parse, with
    hhp_pseudonym as the identity so that its output is the normalised identifier itself."""
    with ParseConnection(None, ctx.work_dir) as con:
        con.execute("create or replace temp macro hhp_pseudonym(value) as value")
        con.execute(pseudonym_macro(old_key, "old_pseudonym"))
        con.execute(pseudonym_macro(new_key, "new_pseudonym"))
        ctx.con = con
        select = ADAPTERS[fmt].parse(ctx)
        run_checks(ctx)  # the file as loaded: its rules hold still
        identifiers = " union ".join(f"select {c} as normalised from parsed" for c in pseudonym_columns(fmt))
        return con.sql(
            f"with parsed as ({select}), identifiers as ({identifiers}) "
            "select old_pseudonym(normalised) as old, new_pseudonym(normalised) as new "
            "from identifiers where normalised is not null"
        ).to_arrow_table()


def _distinct(pairs: list[pa.Table]) -> pa.Table:
    import duckdb

    every = pa.concat_tables(pairs) if pairs else pa.table({"old": pa.array([], pa.string()), "new": []})
    with closing(duckdb.connect()) as con:
        con.register("every", every)
        return con.sql("select distinct old, new::varchar as new from every").to_arrow_table()


def _rekey(wh: Warehouse, table: str, column: str) -> int:
    (orphans,) = wh.query(
        f"select count(*) from {table} where {column} is not null "
        f"and {column} not in (select old from {MAPPING_TABLE})"
    )[0]
    if orphans:
        raise RotationRefused(
            f"{orphans} rows of {table}.{column} have no archived file to re-key them from; "
            "nothing was changed (is every loaded file still in the archive?)"
        )
    (rows,) = wh.query(f"select count(*) from {table} where {column} is not null")[0]
    wh.execute(
        f"update {table} as target set {column} = mapping.new from {MAPPING_TABLE} as mapping "
        f"where target.{column} = mapping.old"
    )
    return rows
