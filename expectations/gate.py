"""The quality gate: every check of the catalogue (expectations/catalogue.yml), per study,
recorded in quality.check_results and shown on a Data Docs page under $HHP_HOME.

Two kinds of check: the marts' analysis_ready suites (Great Expectations suites, evaluated
by their SQL form, expectations.compiled, on either engine: one scan per mart and study;
Great Expectations itself for anything without one), and the trial checks
(expectations/trial.py, SQL aggregates on both engines). The report runs only when every
fatal check passes; otherwise GateFailed names each failed check, its study and figures,
and the Data Docs page.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pyarrow as pa
import yaml

from expectations import compiled, data_docs, trial
from expectations.findings import Finding
from expectations.marts import SUITES
from expectations.runner import validate_query, validate_table
from hhp.config import Settings
from hhp.errors import ExpectedError, NothingBuilt
from hhp.ledger import data_release
from hhp.registry import Study, load_registry
from hhp.warehouse import Warehouse, open_warehouse

CATALOGUE = Path(__file__).with_name("catalogue.yml")
RESULTS_TABLE = "quality.check_results"
# the latest gate's decision, read by the report: each withheld study and why (one line a check)
WITHHELD_TABLE = "quality.withheld_studies"
WITHHELD_COLUMNS = [
    ("study_id", "text"),
    ("reasons", "text"),
    ("data_release", "text"),
    ("checked_at", "timestamp"),
]
RESULT_COLUMNS = [
    ("check_name", "text"),
    ("study_id", "text"),
    ("data_release", "text"),
    ("status", "text"),  # passed | failed | not_applicable | error
    ("severity", "text"),
    ("category", "text"),
    ("subcategory", "text"),
    ("level", "text"),
    ("violating_rows", "bigint"),
    ("denominator", "bigint"),
    ("percentage", "double"),
    ("threshold", "double"),
    ("detail", "text"),
    ("checked_at", "timestamp"),
]
NO_DATA = trial.Measure(0, 0, "the study has no loaded data yet", applicable=False)
log = logging.getLogger(__name__)


class GateFailed(ExpectedError):
    """A fatal check failed: nothing goes on to analysis."""


@dataclass(frozen=True)
class CatalogueEntry:
    id: str
    description: str
    category: str
    subcategory: str
    level: str
    severity: str
    threshold: float
    justification: str | None = None
    per_code: bool = False
    per_wave_arm: bool = False
    per_wave: bool = False
    stage: str = "analysis_ready"  # or landing: run by ingest on each file, not by the gate


@cache
def load_catalogue(stage: str | None = "analysis_ready") -> dict[str, CatalogueEntry]:
    entries = [CatalogueEntry(**entry) for entry in yaml.safe_load(CATALOGUE.read_text())["checks"]]
    return {entry.id: entry for entry in entries if stage is None or entry.stage == stage}


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
    category: str = ""
    subcategory: str = ""
    level: str = ""

    @property
    def percentage(self) -> float | None:
        return 100.0 * self.violating_rows / self.denominator if self.denominator else None

    @property
    def catalogue_id(self) -> str:
        return self.check_name.split("[")[0]


def _status(entry: CatalogueEntry, measure: trial.Measure) -> str:
    if not measure.applicable:
        return "not_applicable"
    if measure.error:
        return "error"
    if measure.denominator == 0:
        return "failed"  # a check over nothing is never passed
    return "failed" if 100.0 * measure.violating / measure.denominator > entry.threshold else "passed"


def _from_finding(finding: Finding) -> trial.Measure:
    if finding.error:
        return trial.Measure(0, 0, finding.expectation, error=True)
    if finding.total == 0:
        return trial.Measure(0, 0, "no rows of this kind", applicable=False)
    detail = finding.describe().rsplit(" [rule: ", 1)[0] if not finding.passed else "all rows meet it"
    return trial.Measure(finding.unexpected, finding.total, detail)


def _suite_measures(settings: Settings, wh: Warehouse, study: Study) -> dict[str, trial.Measure]:
    """The marts' analysis_ready suites, one measure per expectation: in SQL on either engine
    (expectations.compiled), anything without a SQL form by Great Expectations itself."""
    measures = {}
    for mart, build_suite in SUITES.items():
        suite = build_suite(study)
        name, table = f"{mart}.analysis_ready", f"marts.{mart}"
        where = "study_id = '" + study.study_id.replace("'", "''") + "'"
        if not wh.query(f"select count(*) from {table} where {where}")[0][0]:
            empty = trial.Measure(0, 0, "the mart is empty", applicable=False)
            measures |= {e.meta["check"]: empty for e in suite}
            continue
        in_sql = [e for e in suite if compiled.compiles(e)]
        in_gx = [e for e in suite if not compiled.compiles(e)]
        findings = compiled.validate(
            lambda sql: wh.query(sql)[0], table, name, in_sql, None, True, where, wh.engine
        )
        if in_gx and settings.is_postgres:
            rows = f"select * from {table} where {where}"
            findings += validate_query(settings.warehouse, rows, name, in_gx, True)
        elif in_gx:
            findings += validate_table(wh.duckdb, table, name, in_gx, None, None, True, where)
        measures |= {f.check: _from_finding(f) for f in findings}
    return measures


def _for_quarantine(name: str, measure: trial.Measure, held: trial.Measure) -> trial.Measure:
    """A check that found no rows while some of the study's files are in quarantine: it says so.
    A "has rows" check still fails (the study has no data to report); any other does not apply."""
    if not measure.applicable or measure.error or measure.denominator:
        return measure
    detail = f"no rows to check: {held.detail}; see `hhp quarantine list`"
    return trial.Measure(0, 0, detail, applicable=name.endswith(".has_rows"))


def _has_data(wh: Warehouse, study: Study) -> bool:
    rows = wh.query(
        "select count(*) from ops.landed_files where study_id = %s and state = 'loaded'", [study.study_id]
    )
    return rows[0][0] > 0


def run_gate(settings: Settings) -> list[CheckResult]:
    settings = settings.transformer  # on PostgreSQL the gate reads the marts as hhp_transformer
    catalogue, registry = load_catalogue(), load_registry()
    results: list[CheckResult] = []
    with open_warehouse(settings) as wh:
        if not wh.table_exists("marts", "dim_study"):
            raise NothingBuilt("the quality gate")
        release = data_release(wh)
        for study_id, study in sorted(registry.items()):
            measures = trial.measure_all(wh, study) | _suite_measures(settings, wh, study)
            if not _has_data(wh, study):
                measures = dict.fromkeys(measures, NO_DATA)
            held = measures["ingest.files_in_quarantine"]
            if held.violating:  # a check over nothing says why there is nothing
                measures = {name: _for_quarantine(name, m, held) for name, m in measures.items()}
            for name, measure in sorted(measures.items()):
                entry = catalogue[name.split("[")[0]]
                results.append(
                    CheckResult(
                        name, study_id, _status(entry, measure), measure.violating, measure.denominator,
                        measure.detail, entry.severity, entry.threshold, entry.category, entry.subcategory,
                        entry.level,
                    )
                )  # fmt: skip
        _record(wh, results, release)
        trends = data_docs.history(wh)
    write_data_docs(settings, results, release, trends)
    return results


def _record(wh: Warehouse, results: list[CheckResult], release: str) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    with wh.transaction():
        if wh.table_exists("quality", "check_results"):
            known = {c for (c,) in wh.query(
                "select column_name from information_schema.columns "
                "where table_schema = 'quality' and table_name = 'check_results'"
            )}  # fmt: skip
            if known != {name for name, _ in RESULT_COLUMNS}:  # results from an older catalogue layout
                wh.execute(f"drop table {RESULTS_TABLE}")
        wh.ensure_table(RESULTS_TABLE, RESULT_COLUMNS)
        rows = [
            [r.check_name, r.study_id, release, r.status, r.severity, r.category, r.subcategory, r.level,
             r.violating_rows, r.denominator, r.percentage, r.threshold, r.detail, now]
            for r in results
        ]  # fmt: skip
        arrow_type = {"text": pa.string(), "bigint": pa.int64(), "double": pa.float64(),
                      "timestamp": pa.timestamp("us")}  # fmt: skip
        columns = {name: pa.array([row[i] for row in rows], arrow_type[kind])
                   for i, (name, kind) in enumerate(RESULT_COLUMNS)}  # fmt: skip
        wh.insert_arrow(RESULTS_TABLE, pa.table(columns))
        wh.ensure_table(WITHHELD_TABLE, WITHHELD_COLUMNS)
        wh.execute(f"delete from {WITHHELD_TABLE}")
        for study_id, reasons in sorted(withheld(results).items()):
            wh.execute(
                f"insert into {WITHHELD_TABLE} values (%s, %s, %s, %s)",
                [study_id, "\n".join(reasons), release, now],
            )


def data_docs_path(settings: Settings) -> Path:
    return settings.home / "data_docs" / "index.html"


def write_data_docs(settings: Settings, results: list[CheckResult], release: str, trends=None) -> Path:
    """The one self-contained page (expectations.data_docs): the summary, then every check with
    its figures and its history across data releases."""
    page = data_docs.render(results, load_catalogue(), release, trends or {})
    path = data_docs_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".html.partial")
    partial.write_text(page, encoding="utf-8")
    partial.replace(path)
    return path


def summary(results: list[CheckResult]) -> list[tuple[str, str, Counter]]:
    """(study, category, status counts), for the command line."""
    groups: dict[tuple[str, str], Counter] = {}
    for r in results:
        groups.setdefault((r.study_id, r.category), Counter())[r.status] += 1
    return [(study, category, counts) for (study, category), counts in sorted(groups.items())]


def withheld(results: list[CheckResult]) -> dict[str, list[str]]:
    """The studies a fatal check failed for, each with the checks that failed and why: they are
    withheld from the report and the pooled estimates; the other studies are reported."""
    out: dict[str, list[str]] = {}
    for r in results:
        if r.severity == "fatal" and r.status in ("failed", "error"):
            out.setdefault(r.study_id, []).append(
                f"{r.check_name}: {r.status}, {r.violating_rows} of {r.denominator}; {r.detail}"
            )
    return out


def enforce(results: list[CheckResult], settings: Settings | None = None) -> dict[str, list[str]]:
    """The studies withheld (a fatal check failed for them); raises GateFailed if that leaves no
    study to report, or if no check passed at all."""
    where = f"\nData Docs: {data_docs_path(settings)}" if settings else ""
    held = withheld(results)
    with_data = {r.study_id for r in results if r.status != "not_applicable"}
    if held and with_data <= set(held):
        lines = [f"{study}: {reason}" for study, reasons in sorted(held.items()) for reason in reasons]
        raise GateFailed(
            "quality gate failed for every study with data; the report was not built:\n"
            + "\n".join(lines)
            + where
        )
    if not any(r.status == "passed" for r in results):
        raise GateFailed(
            "quality gate: no check passed (is there any data?); the report was not built" + where
        )
    for study, reasons in sorted(held.items()):
        log.warning("quality gate: %s withheld from the report: %s", study, "; ".join(reasons))
    return held
