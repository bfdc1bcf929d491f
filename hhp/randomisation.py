"""The sample-ratio test: did the allocation run as designed? One implementation, read by the
quality gate (`allocation.sample_ratio`) and by the report.

The units counted are those randomised: clusters in a cluster RCT (a statistician tests the
allocation of the units that were allocated; people follow their cluster), participants
otherwise. Their counts per arm are tested against the registry's allocation ratio with the
chi-squared goodness-of-fit test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.stats import chisquare

from hhp.registry import Study
from hhp.warehouse import Warehouse

SRM_ALPHA = 0.001  # a smaller p fails the gate: the allocation did not run as designed


@dataclass(frozen=True)
class SampleRatio:
    study_id: str
    units: str  # clusters | participants
    allocation_ratio: str  # control:intervention, as the registry has it
    observed: dict[str, int]  # arm -> units
    statistic: float
    p_value: float  # nan when no one is randomised yet

    @property
    def mismatch(self) -> bool:
        return self.p_value < SRM_ALPHA

    def describe(self) -> str:
        counts = ", ".join(f"{arm} {n}" for arm, n in self.observed.items())
        return (
            f"{self.units}: {counts} against {self.allocation_ratio}; "
            f"chi-square {self.statistic:.2f}, p = {self.p_value:.4f}"
        )


def sample_ratio(wh: Warehouse, study: Study, release: str | None = None) -> SampleRatio:
    """The test over marts.dim_participant for one study, or over a data release's snapshot
    of it (hhp/releases.py)."""
    clustered = study.design == "cluster_rct"
    unit = "cluster_id" if clustered else "participant_id"
    relation, where, params = "marts.dim_participant", "study_id = %s", [study.study_id]
    if release is not None:
        relation, where, params = (
            "releases.rel_participants",
            "release_name = %s and " + where,
            [release, *params],
        )
    counts = dict(
        wh.query(f"select arm, count(distinct {unit}) from {relation} where {where} group by arm", params)
    )
    observed = {arm: int(counts.get(arm, 0)) for arm in study.arms}
    weights = [float(study.allocation_ratio[arm]) for arm in study.arms]
    total = sum(observed.values())
    statistic, p_value = math.nan, math.nan
    if total:
        expected = [total * w / sum(weights) for w in weights]
        statistic, p_value = (float(v) for v in chisquare(list(observed.values()), expected))
    return SampleRatio(
        study.study_id,
        "clusters" if clustered else "participants",
        ":".join(f"{w:g}" for w in weights),
        observed,
        statistic,
        p_value,
    )
