"""The trial checks a statistician insists on, per study, as SQL aggregates over the warehouse.

Each returns Measures: violating rows over a denominator, with the figures in words; the
gate turns them into statuses with the catalogue's thresholds. The SQL runs unchanged on
DuckDB and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass

from hhp import randomisation
from hhp.freshness import NO_ALLOCATION, feed_freshness
from hhp.instruments import ITEM_COLUMNS
from hhp.registry import Study

ATTRITION_GAP_PP = 10.0
SURVEY_STAGING = {"qualtrics_csv": "stg_qualtrics__responses", "redcap_csv": "stg_redcap__responses"}


@dataclass
class Measure:
    violating: int
    denominator: int
    detail: str
    applicable: bool = True
    error: bool = False


ResponseCounts = dict[tuple[str, str], tuple[int, int]]  # (wave, arm) -> (responders, randomised)
NOT_APPLICABLE = Measure(0, 0, "does not apply to this study's design or feeds", applicable=False)


def _one(wh, sql: str, params: list) -> tuple:
    return wh.query(sql, params)[0]


def _counted(wh, study: Study, table: str, violation: str, what: str, condition: str = "true") -> Measure:
    """Rows of the study in `table` (meeting `condition`) that match `violation`."""
    violating, total = _one(
        wh,
        f"select count(*) filter (where {violation}), count(*) from {table} "
        f"where study_id = %s and {condition}",
        [study.study_id],
    )
    return Measure(violating, total, f"{violating} of {total} {what}")


def sample_ratio(wh, study: Study) -> Measure:
    srm = randomisation.sample_ratio(wh, study)
    if not sum(srm.observed.values()):
        return Measure(0, 0, "no one randomised in the mart")
    return Measure(int(srm.mismatch), 1, srm.describe())


def one_arm_per_participant(wh, study: Study) -> Measure:
    violating, total = _one(
        wh,
        "select count(*) filter (where arms > 1), count(*) from ("
        "select participant_id, count(distinct arm) as arms from raw.allocation_csv "
        "where study_id = %s group by participant_id) as per_participant",
        [study.study_id],
    )
    return Measure(violating, total, f"{violating} of {total} participants under more than one arm")


def cluster_single_arm(wh, study: Study) -> Measure:
    if study.design != "cluster_rct":
        return NOT_APPLICABLE
    violating, total = _one(
        wh,
        "select count(*) filter (where clusters.arms > 1), count(*) from marts.dim_participant as members "
        "inner join (select cluster_id, count(distinct arm) as arms from marts.dim_participant "
        "where study_id = %s group by cluster_id) as clusters on members.cluster_id = clusters.cluster_id "
        "where members.study_id = %s",
        [study.study_id, study.study_id],
    )
    return Measure(violating, total, f"{violating} of {total} members are in a cluster split across arms")


def item_codes_in_range(wh, study: Study) -> Measure:
    table = SURVEY_STAGING.get(study.feed_format("survey") or "")
    if table is None:
        return NOT_APPLICABLE
    outside = " or ".join(f"({c} is not null and {c} not between 1 and 5)" for c in ITEM_COLUMNS)
    return _counted(wh, study, f"staging.{table}", outside, "responses hold an item code outside 1-5")


def baseline_before_randomisation(wh, study: Study) -> Measure:
    if "baseline" not in {tp.name for tp in study.timepoints}:
        return NOT_APPLICABLE
    violating, total = _one(
        wh,
        "select count(distinct case when response_day > 0 then participant_id end), "
        "count(distinct participant_id) from marts.fct_outcomes "
        "where study_id = %s and timepoint = 'baseline' and analysis_flag and response_day is not null",
        [study.study_id],
    )
    return Measure(violating, total, f"{violating} of {total} baseline responses dated after randomisation")


def _response_counts(wh, study: Study) -> ResponseCounts:
    """(wave, arm) -> (responders, randomised)."""
    rows = wh.query(
        "select timepoint, arm, count(distinct case when analysis_flag then participant_id end), "
        "count(distinct participant_id) from marts.fct_outcomes "
        "where study_id = %s and timepoint <> 'period' group by timepoint, arm",
        [study.study_id],
    )
    return {(wave, arm): (responded, randomised) for wave, arm, responded, randomised in rows}


def response_rates(study: Study, counts: ResponseCounts) -> dict[str, Measure]:
    if not study.feed_format("survey"):
        return {}
    measures = {}
    for tp in study.timepoints:
        for arm in study.arms:
            responded, randomised = counts.get((tp.name, arm), (0, 0))
            rate = 100.0 * responded / randomised if randomised else 0.0
            measures[f"{tp.name}/{arm}"] = Measure(
                randomised - responded, randomised, f"{responded} of {randomised} responded ({rate:.1f}%)"
            )
    return measures


def differential_attrition(
    study: Study, counts: dict[tuple[str, str], tuple[int, int]]
) -> dict[str, Measure]:
    if not study.feed_format("survey"):
        return {}
    measures = {}
    # attrition is loss after randomisation: arms cannot differ at baseline except by chance
    for tp in (tp for tp in study.timepoints if tp.day > 0):
        rates = {}
        for arm in study.arms:
            responded, randomised = counts.get((tp.name, arm), (0, 0))
            rates[arm] = 100.0 * responded / randomised if randomised else None
        if None in rates.values():
            measures[tp.name] = Measure(0, 0, "an arm has no one randomised")
            continue
        gap = max(rates.values()) - min(rates.values())
        words = ", ".join(f"{arm} {rate:.1f}%" for arm, rate in rates.items())
        measures[tp.name] = Measure(
            int(gap > ATTRITION_GAP_PP), 1, f"response {words}: {gap:.1f} points apart (flag above 10)"
        )
    return measures


def absence_within_employment(wh, study: Study) -> Measure:
    violating, total = _one(
        wh,
        "select count(*) filter (where spells.start_date < periods.hire_date "
        "or spells.start_date > periods.termination_date), count(*) "
        "from marts.fct_absence_spells as spells "
        "inner join intermediate.int_hr_employment_periods as periods "
        "on spells.study_id = periods.study_id and spells.participant_id = periods.participant_id "
        "where spells.study_id = %s and spells.is_sickness",
        [study.study_id],
    )
    return Measure(violating, total, f"{violating} of {total} sickness absences start outside employment")


def leaving_after_hire(wh, study: Study) -> Measure:
    return _counted(
        wh, study, "intermediate.int_hr_employment_periods", "termination_date < hire_date",
        "staff leave before they were hired", "has_hr_record",
    )  # fmt: skip


def partner_days_agree(wh, study: Study) -> Measure:
    if study.feed_format("absence") != "esr_absence_csv":
        return NOT_APPLICABLE
    return _counted(
        wh, study, "marts.fct_absence_spells", "partner_quantity <> calendar_days",
        "closed absences where ESR's days differ", "source_format = 'esr_absence_csv' and not is_ongoing",
    )  # fmt: skip


def scheduled_contacts_recorded(wh, study: Study) -> Measure:
    if study.contacts.get("kind") not in ("email", "letter"):
        return NOT_APPLICABLE
    return _counted(
        wh, study, "marts.fct_engagement", "delivery_events = 0", "scheduled contacts have no delivery record"
    )


def has_rows(wh, study: Study, mart: str) -> Measure:
    (rows,) = _one(wh, f"select count(*) from marts.{mart} where study_id = %s", [study.study_id])
    return Measure(int(rows == 0), 1, f"{rows} rows")


def rows_left_out(wh, study: Study) -> Measure:
    left_out, rows = _one(
        wh,
        "select "
        "  (select count(*) from ops.rejected_rows as r join ops.landed_files as f "
        "     on r.file_key = f.file_key and r.sha256 = f.sha256 and f.state = 'loaded' "
        "   where r.study_id = %s and not (r.feed = 'roster' and r.rule = 'reference')), "
        "  (select coalesce(sum(rows_loaded + rows_rejected), 0) from ops.landed_files "
        "   where study_id = %s and state = 'loaded')",
        [study.study_id, study.study_id],
    )
    detail = f"{left_out} of {rows} rows in loaded files left out by a row-level rule (ops.rejected_rows)"
    return Measure(int(left_out), int(rows), detail)


def files_in_quarantine(wh, study: Study) -> Measure:
    held, files, feeds = _one(
        wh,
        "select count(*) filter (where state = 'quarantined'), count(*), "
        "string_agg(distinct case when state = 'quarantined' then feed end, ', ') "
        "from ops.landed_files where study_id = %s and state in ('loaded', 'quarantined')",
        [study.study_id],
    )
    where = f" ({feeds})" if held else ""
    return Measure(int(held), int(files), f"{held} of {files} landed files in quarantine{where}")


def feeds_overdue(wh, study: Study) -> dict[str, Measure]:
    """One measure per feed with a cadence (hhp.freshness): 1 of 1 when it is overdue."""
    return {
        f"ingest.feed_overdue[{f.feed}]": Measure(
            int(f.overdue), 1, f.detail, applicable=f.detail != NO_ALLOCATION
        )
        for f in feed_freshness(wh, study)
    }


def measure_all(wh, study: Study) -> dict[str, Measure]:
    """Every SQL check for one study, by check name (catalogue id, [variant])."""
    measures = {
        "ingest.rows_left_out": rows_left_out(wh, study),
        "ingest.files_in_quarantine": files_in_quarantine(wh, study),
        **feeds_overdue(wh, study),
        "allocation.sample_ratio": sample_ratio(wh, study),
        "allocation.one_arm_per_participant": one_arm_per_participant(wh, study),
        "allocation.cluster_single_arm": cluster_single_arm(wh, study),
        "dim_participant.has_rows": has_rows(wh, study, "dim_participant"),
        "fct_outcomes.has_rows": has_rows(wh, study, "fct_outcomes"),
        "survey.item_codes_in_range": item_codes_in_range(wh, study),
        "survey.baseline_before_randomisation": baseline_before_randomisation(wh, study),
        "hr.absence_within_employment": absence_within_employment(wh, study),
        "hr.leaving_after_hire": leaving_after_hire(wh, study),
        "hr.partner_days_agree": partner_days_agree(wh, study),
        "delivery.scheduled_contacts_recorded": scheduled_contacts_recorded(wh, study),
    }
    counts = _response_counts(wh, study)  # one query serves both survey checks
    measures |= {f"survey.response_rate[{k}]": m for k, m in response_rates(study, counts).items()}
    measures |= {
        f"survey.differential_attrition[{k}]": m for k, m in differential_attrition(study, counts).items()
    }
    return measures
