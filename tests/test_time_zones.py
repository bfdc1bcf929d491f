"""No result depends on the host's time zone: the five-study chain gives the same marts, row for
row, under UTC, London and New York."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ALL_MARTS, VOLATILE_COLUMNS, mart_rows, settings_for

ZONES = ("UTC", "Europe/London", "America/New_York")
WHEN_LOADED = ("ingested_at", "voided_by_ingested_at")  # the run's own clock, in UTC, not the data


def _comparable(rows: list[tuple]) -> list[tuple]:
    """Floats to 9 significant digits: a parallel sum's last bits vary from run to run, in any zone."""
    return [tuple(float(f"{v:.9g}") if isinstance(v, float) else v for v in row) for row in rows]


def _demo_under(zone: str, home: Path) -> None:
    env = {**os.environ, "TZ": zone, "HHP_HOME": str(home)}
    env.pop("HHP_STUDIES", None)
    done = subprocess.run(
        [str(Path(sys.executable).with_name("hhp")), "demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


@pytest.mark.slow
def test_the_chain_gives_the_same_marts_in_every_host_time_zone(tmp_path):
    marts = {}
    for zone in ZONES:
        home = tmp_path / zone.replace("/", "_")
        _demo_under(zone, home)
        models = [*ALL_MARTS, "staging.stg_xapi__statements", "staging.stg_qualtrics__responses"]
        marts[zone] = mart_rows(settings_for(home), models, (*VOLATILE_COLUMNS, *WHEN_LOADED))
    reference = marts["UTC"]
    assert sum(len(rows) for rows in reference.values()) > 10_000
    for zone in ZONES[1:]:
        for mart, rows in reference.items():
            assert _comparable(marts[zone][mart]) == _comparable(rows), f"{mart} differs under TZ={zone}"
