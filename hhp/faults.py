"""Named points where the process can be killed on purpose, to prove that a death anywhere
leaves the warehouse and the ledger consistent (tests/test_fault_injection.py).

HHP_FAULT_POINT=<name> kills the process with SIGKILL, as the kernel's OOM killer or a
pulled plug would, the first time it reaches that point; <name>#<n> the n-th time. Unset, a
point costs one read of the setting.
"""

from __future__ import annotations

import os
import signal
import threading
from collections import Counter

from hhp.config import setting

_reached: Counter[str] = Counter()


def fault_point(name: str) -> None:
    wanted = setting("fault_point")
    if not wanted:
        return
    point, _, nth = wanted.partition("#")
    if point != name:
        return
    _reached[name] += 1
    if _reached[name] == int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)


def dbt_fault_points(event) -> None:
    """A dbt callback: `build.finished:<model>` once a node's work is committed, and
    `build.during:<model>` a moment after it starts, while its SQL runs."""
    wanted = setting("fault_point")
    if not wanted or event.info.name not in ("NodeStart", "NodeFinished"):
        return
    node = event.data.node_info.node_name
    if event.info.name == "NodeFinished":
        fault_point(f"build.finished:{node}")
    elif wanted == f"build.during:{node}":
        threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGKILL)).start()
