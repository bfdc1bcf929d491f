"""The quality gate: the analysis_ready suites per study, recorded in quality.check_results.

The report runs only when every fatal check passes; otherwise GateFailed names each
failed check, its study and figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from expectations.marts import SUITES
from expectations.runner import validate_frame
from hhp.config import Settings
from hhp.warehouse import open_warehouse
from ingest.ledger import data_release
from ingest.registry import load_registry

RESULTS_TABLE = "quality.check_results"
RESULT_COLUMNS = [
    ("check_name", "text"),
    ("study_id", "text"),
    ("data_release", "text"),
    ("status", "text"),  # passed | failed | not_applicable | error
    ("severity", "text"),
    ("violating_rows", "bigint"),
    ("denominator", "bigint"),
    ("percentage", "double"),
    ("threshold", "double"),
    ("detail", "text"),
    ("checked_at", "timestamp"),
]


class GateFailed(RuntimeError):
    """A fatal check failed: nothing goes on to analysis."""


@dataclass
class CheckResult:
    check_name: str
    study_id: str
    status: str
    violating_rows: int
    denominator: int
    detail: str
    severity: str = "fatal"
    threshold: float = 0.0

    @property
    def percentage(self) -> float | None:
        return 100.0 * self.violating_rows / self.denominator if self.denominator else None


def run_gate(settings: Settings) -> list[CheckResult]:
    registry = load_registry()
    results: list[CheckResult] = []
    with open_warehouse(settings) as wh:
        release = data_release(wh)
        frames = {mart: wh.query_arrow(f"select * from marts.{mart}").to_pandas() for mart in SUITES}
        for study_id, study in sorted(registry.items()):
            for mart, build_suite in SUITES.items():
                frame = frames[mart][frames[mart]["study_id"] == study_id].reset_index(drop=True)
                if frame.empty:
                    results.append(
                        CheckResult(
                            f"{mart}.analysis_ready",
                            study_id,
                            "not_applicable",
                            0,
                            0,
                            "study has no data yet",
                        )
                    )
                    continue
                findings = validate_frame(frame, f"{mart}.analysis_ready", build_suite(study), None)
                failed = sum(f.unexpected or 0 for f in findings)
                status = "error" if any(f.error for f in findings) else "failed" if findings else "passed"
                detail = "; ".join(f.describe() for f in findings) or "all expectations met"
                results.append(
                    CheckResult(f"{mart}.analysis_ready", study_id, status, failed, len(frame), detail)
                )
        now = datetime.now(UTC).replace(tzinfo=None)
        with wh.transaction():
            wh.ensure_table(RESULTS_TABLE, RESULT_COLUMNS)
            for r in results:
                wh.execute(
                    f"insert into {RESULTS_TABLE} values ({', '.join(['%s'] * len(RESULT_COLUMNS))})",
                    [
                        r.check_name,
                        r.study_id,
                        release,
                        r.status,
                        r.severity,
                        r.violating_rows,
                        r.denominator,
                        r.percentage,
                        r.threshold,
                        r.detail,
                        now,
                    ],
                )
    return results


def enforce(results: list[CheckResult]) -> None:
    failed = [r for r in results if r.severity == "fatal" and r.status in ("failed", "error")]
    if failed:
        lines = [
            f"- {r.check_name} [{r.study_id}]: {r.status}, "
            f"{r.violating_rows} of {r.denominator} rows; {r.detail}"
            for r in failed
        ]
        raise GateFailed("quality gate failed; the report was not built:\n" + "\n".join(lines))
    if not any(r.status == "passed" for r in results):
        raise GateFailed("quality gate: no check passed (is there any data?); the report was not built")
