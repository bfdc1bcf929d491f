"""Simulate one study's population and events, independent of any file format.

Scores are simulated on their own scale and turned into item responses by unbiased
dithering, so the expected score difference between arms equals the effect set in
the registry's generator settings: that is the truth the analysis must recover.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np

from hhp.instruments import LEAVING_REASONS, SWEMWBS_METRIC, WITHDRAWAL_LEVELS, complies
from hhp.registry import Study

FIRST_NAMES = (
    "Alex",
    "Sam",
    "Jordan",
    "Priya",
    "Tom",
    "Aisha",
    "Chris",
    "Fatima",
    "Ewan",
    "Grace",
    "Mohammed",
    "Olivia",
    "Rhys",
    "Sofia",
    "Liam",
    "Chloe",
    "Daniel",
    "Maya",
)
LAST_NAMES = (
    "Smith",
    "Jones",
    "Patel",
    "Williams",
    "Brown",
    "Khan",
    "Taylor",
    "Davies",
    "Evans",
    "Wilson",
    "Thomas",
    "Roberts",
    "Ahmed",
    "Walker",
    "Wright",
    "Hughes",
)
FTE_CHOICES = (1.0, 0.8, 0.6, 0.5)
FTE_WEIGHTS = (0.72, 0.14, 0.08, 0.06)
GRADES = ("EO", "HEO", "SEO", "G7")
ROLES = ("Analyst", "Collector", "Engineer", "Manager", "Specialist")
HRIS_SICK_REASONS = ("stress", "anxiety", "depression", "musculoskeletal", "respiratory", "gastro", "other")
HRIS_SICK_WEIGHTS = (0.14, 0.07, 0.04, 0.2, 0.3, 0.15, 0.1)
BASELINE = {"SWEMWBS": (23.5, 3.6), "CBI_WORK": (45.0, 18.0), "BELONG": (3.6, 0.7), "ITQ": (2.4, 0.8)}
LOADING = {"SWEMWBS": 0.7, "CBI_WORK": -0.6, "BELONG": 0.5, "ITQ": -0.5}
STABILITY = 0.6  # correlation of a score with its baseline
ICC = 0.05  # share of the common factor's variance between teams, in cluster RCTs


@dataclass
class Participant:
    participant_id: str
    employee_number: str
    email: str
    first_name: str
    last_name: str
    arm: str
    stratum: str | None
    cluster_id: str | None
    randomised_on: date
    hire_date: date
    fte: float
    fte_change: tuple[date, float] | None
    org_unit: str
    grade: str
    job_role: str
    termination_date: date | None = None
    leaving_reason: str | None = None
    notice_given_date: date | None = None
    scores: dict[str, dict[str, float]] = field(default_factory=dict)  # timepoint -> code -> score


@dataclass
class SurveyResponse:
    participant: Participant
    wave: str
    recorded_at: datetime
    started_at: datetime
    status: str  # "IP Address" or "Survey Preview"
    finished: bool
    progress: int
    codes: dict[str, int | None]  # canonical item column -> code 1..5


@dataclass
class Absence:
    participant: Participant
    type: str
    reason: str | None
    start: date
    end: date


@dataclass
class Delivery:
    """One scheduled contact (an email, a letter, a module) and what became of it."""

    participant: Participant
    week: int
    received_at: datetime
    status: str  # Delivered | Failed | FilteredAsSpam (email); Delivered | Returned (letter)
    human_opens: int = 0
    machine_opens: int = 0
    clicks: int = 0
    returned_on: date | None = None
    launched_at: datetime | None = None
    completed_at: datetime | None = None


@dataclass
class Withdrawal:
    participant: Participant
    withdrawn_on: date
    level: str  # intervention | follow_up | data
    reason_code: str | None


@dataclass
class StudyData:
    study: Study
    participants: list[Participant]
    responses: list[SurveyResponse]
    absences: list[Absence]
    deliveries: list[Delivery]
    truth: dict
    withdrawals: list[Withdrawal] = field(default_factory=list)


def _dither(rng: np.random.Generator, value: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Pick one of the two neighbouring levels so that the expected level equals the value."""
    value = np.clip(value, levels[0], levels[-1])
    upper = np.clip(np.searchsorted(levels, value, side="left"), 1, len(levels) - 1)
    low, high = levels[upper - 1], levels[upper]
    p_high = (value - low) / (high - low)
    return np.where(rng.random(value.shape) < p_high, upper, upper - 1)


def _swemwbs_items(rng: np.random.Generator, metric: float) -> list[int]:
    metrics = np.array([SWEMWBS_METRIC[r] for r in range(7, 36)])
    raw_total = 7 + int(_dither(rng, np.array([metric]), metrics)[0])
    codes = [1] * 7
    for _ in range(raw_total - 7):  # spread the points over items, none above 5
        open_items = [i for i, c in enumerate(codes) if c < 5]
        codes[int(rng.choice(open_items))] += 1
    return codes


def _mean_scale_items(rng, target: float, n: int, low: float, step: float) -> list[int]:
    """Item codes 1..5 whose item values (low + step*(code-1)) average the target in expectation."""
    levels = low + step * np.arange(5)
    noise = rng.normal(0, step * 0.6, n)
    noise -= noise.mean()  # keep the items' mean exactly on target before dithering
    return [int(c) + 1 for c in _dither(rng, target + noise, levels)]


def item_codes(rng: np.random.Generator, scores: dict[str, float]) -> dict[str, int]:
    codes = {f"swemwbs_{i + 1}": c for i, c in enumerate(_swemwbs_items(rng, scores["SWEMWBS"]))}
    cbi = _mean_scale_items(rng, scores["CBI_WORK"], 7, 0.0, 25.0)
    cbi[6] = 6 - cbi[6]  # item 7 is reverse-scored: the respondent answers the opposite way
    codes |= {f"cbi_work_{i + 1}": c for i, c in enumerate(cbi)}
    codes |= {f"belong_{i + 1}": c for i, c in enumerate(_mean_scale_items(rng, scores["BELONG"], 3, 1, 1))}
    codes |= {f"itq_{i + 1}": c for i, c in enumerate(_mean_scale_items(rng, scores["ITQ"], 3, 1, 1))}
    return codes


def _allocate(rng: np.random.Generator, strata: list[str], arms: tuple[str, ...]) -> list[str]:
    """Stratified permuted blocks of size 2 x arms, 1:1."""
    allocation: list[str] = [""] * len(strata)
    for stratum in sorted(set(strata)):
        members = [i for i, s in enumerate(strata) if s == stratum]
        sequence: list[str] = []
        while len(sequence) < len(members):
            block = list(arms) * 2
            rng.shuffle(block)
            sequence += block
        for i, arm in zip(members, sequence, strict=False):
            allocation[i] = arm
    return allocation


def simulate(study: Study, seed: int, scale: float = 1.0) -> StudyData:
    settings = study.generator
    rng = np.random.default_rng([seed, sum(study.study_id.encode())])
    n = max(20, int(round(settings["participants"] * scale)))
    day0 = date.fromisoformat(settings["randomised_on"])
    control, treatment = study.arms[0], study.arms[1]
    strata_names = settings.get("strata") or [None]
    strata = [strata_names[i] for i in rng.integers(0, len(strata_names), n)]
    clusters: list[str | None] = [None] * n
    if study.design == "cluster_rct":
        # members spread over teams; teams (not people) are randomised, 1:1
        n_clusters = settings["clusters"] if scale >= 1 else max(4, round(settings["clusters"] * scale))
        teams = [f"T{c + 1:03d}" for c in range(n_clusters)]
        clusters = [teams[i % n_clusters] for i in rng.permutation(n)]
        team_arms = dict(zip(teams, _allocate(rng, [None] * n_clusters, study.arms), strict=True))
        arms = [team_arms[c] for c in clusters]
        team_effect = {t: rng.normal(0, np.sqrt(ICC)) for t in teams}
    else:
        arms = _allocate(rng, strata, study.arms)
    numbers = rng.choice(np.arange(100000, 999999), n, replace=False)
    effects = settings["effects"]
    means = {
        code: (settings.get("baseline_means", {}).get(code, mean), sd)
        for code, (mean, sd) in BASELINE.items()
    }
    timepoints = [tp.name for tp in study.timepoints]
    post = [tp for tp in timepoints if tp != "baseline"]

    participants = []
    for i in range(n):
        first = FIRST_NAMES[rng.integers(len(FIRST_NAMES))]
        last = LAST_NAMES[rng.integers(len(LAST_NAMES))]
        fte = float(rng.choice(FTE_CHOICES, p=FTE_WEIGHTS))
        fte_change = None
        if rng.random() < 0.05:  # a later FTE change must not leak into the outcome's FTE
            fte_change = (day0 + timedelta(days=int(rng.integers(10, 150))), 1.0 if fte < 1 else 0.8)
        p = Participant(
            participant_id=f"{settings['id_prefix']}-{i + 1:05d}",
            employee_number=f"E{numbers[i]}",
            email=f"{first.lower()}.{last.lower()}{i + 1}@{settings['org_domain']}",
            first_name=first,
            last_name=last,
            arm=arms[i],
            stratum=strata[i],
            cluster_id=clusters[i],
            randomised_on=day0,
            hire_date=day0 - timedelta(days=int(rng.integers(20, 3 * 365))),
            fte=fte,
            fte_change=fte_change,
            org_unit=clusters[i] or f"{(strata[i] or 'ORG')[:3].upper()}-{int(rng.integers(1, 9)):02d}",
            grade=str(rng.choice(GRADES)),
            job_role=str(rng.choice(ROLES)),
        )
        # scores: a common factor links instruments; each later score regresses to the mean
        common = rng.normal()
        if p.cluster_id:  # members of a team resemble each other (intra-cluster correlation)
            common = team_effect[p.cluster_id] + np.sqrt(1 - ICC) * common
        base = {}
        for code, (mean, sd) in means.items():
            loading = LOADING[code]
            base[code] = mean + sd * (loading * common + np.sqrt(1 - loading**2) * rng.normal())
        p.scores["baseline"] = base
        for tp in post:
            scores = {}
            for code, (mean, sd) in means.items():
                # the effect comes later, to those who receive the intervention (_add_effects)
                scores[code] = (
                    mean + STABILITY * (base[code] - mean) + sd * np.sqrt(1 - STABILITY**2) * rng.normal()
                )
            p.scores[tp] = scores
        # leaving: within the HR period with the arm's probability, else maybe later
        if rng.random() < settings["leaving_within_period"][p.arm]:
            leave_day = int(rng.integers(1, study.hr_period_days))
        elif rng.random() < 0.05:
            leave_day = int(rng.integers(study.hr_period_days, study.hr_period_days + 60))
        else:
            leave_day = None
        if leave_day is not None:
            voluntary = rng.random() < settings["voluntary_share"]
            reasons = [r for r, v in LEAVING_REASONS.items() if v == voluntary]
            p.termination_date = day0 + timedelta(days=leave_day)
            p.leaving_reason = str(rng.choice(reasons))
            if voluntary and rng.random() < 0.8:
                p.notice_given_date = p.termination_date - timedelta(days=int(rng.integers(14, 60)))
        participants.append(p)

    # deliveries and withdrawals in streams of their own, drawn before the survey: who received
    # the intervention decides whose scores it changes
    stream = sum(study.study_id.encode())
    deliveries = _deliveries(np.random.default_rng([seed, stream, 4]), study, participants, treatment)
    withdrawals = _withdrawals(np.random.default_rng([seed, stream, 3]), study, participants)
    stopped = {w.participant.participant_id: w.withdrawn_on for w in withdrawals}
    # any withdrawal stops the intervention: nothing is sent after it (the partner was told)
    deliveries = [
        d for d in deliveries if d.received_at.date() <= stopped.get(d.participant.participant_id, date.max)
    ]
    compliers = _compliers(study, participants, deliveries)
    share = len(compliers) / max(1, sum(p.arm == treatment for p in participants))
    complier_effects = _add_effects(study, participants, compliers, share, post)
    responses = _survey(rng, study, participants)
    absences = _absences(rng, study, participants)
    truth = {
        "study_id": study.study_id,
        "seed": seed,
        "scale": scale,
        "participants": n,
        "arms": {"control": control, "intervention": treatment},
        "effects": {
            code: {tp: float(effects.get(code, {}).get(tp, 0.0)) for tp in post}
            for code in study.feeds.get("survey", {}).get("items", {})
        },
        "effects_note": "intervention minus control, on each outcome's scored scale",
        "leaving_within_period": settings["leaving_within_period"],
        "LEFT_ANY_risk_difference_pp": 100
        * (settings["leaving_within_period"][treatment] - settings["leaving_within_period"][control]),
        "sickness_spells_per_period": settings["sickness_spells_per_period"],
        # the highest level each withdrawn participant reached: data ones are erased
        "withdrawals": _withdrawal_counts(withdrawals),
        # the survey outcomes' effects act on those who received the intervention only (the
        # registry's compliance rule; everyone offered it where the study has none), scaled so
        # that intention to treat still recovers `effects`: complier effect = effect / share
        "complier_share": share,
        "complier_effects": complier_effects,
    }
    return StudyData(study, participants, responses, absences, deliveries, truth, withdrawals)


def _survey(rng, study: Study, participants: list[Participant]) -> list[SurveyResponse]:
    rates = study.generator["response_rates"]
    out = []
    for tp in study.timepoints:
        for p in participants:
            left_before = p.termination_date and p.termination_date < p.randomised_on + timedelta(tp.day)
            rate = rates[tp.name]
            if isinstance(rate, dict):  # attrition may differ by arm
                rate = rate[p.arm]
            if left_before or rng.random() >= rate:
                continue
            if tp.name == "baseline":
                day = -int(rng.integers(1, 30))
            else:
                day = tp.day + int(rng.integers(-10, 15))
                if rng.random() < 0.03:  # a late answer, outside the window
                    day = tp.window_end + int(rng.integers(1, 20))
            recorded = datetime.combine(p.randomised_on + timedelta(days=day), datetime.min.time())
            recorded += timedelta(seconds=int(rng.integers(7 * 3600, 20 * 3600)))
            codes: dict[str, int | None] = dict(item_codes(rng, p.scores[tp.name]))
            finished, progress = True, 100
            if rng.random() < 0.05:  # gave up part way: the later items are missing
                finished, progress = False, int(rng.integers(20, 90))
                for column in list(codes)[int(len(codes) * progress / 100) :]:
                    codes[column] = None
            duration = int(rng.integers(120, 900))
            out.append(
                SurveyResponse(
                    p,
                    tp.name,
                    recorded,
                    recorded - timedelta(seconds=duration),
                    "IP Address",
                    finished,
                    progress,
                    codes,
                )
            )
        # someone answers the same wave again a few days later: the later complete answer counts
        first = next((r for r in out if r.wave == tp.name and r.finished), None)
        if first is not None:
            again = first.recorded_at + timedelta(days=3, hours=2)
            out.append(
                SurveyResponse(
                    first.participant,
                    tp.name,
                    again,
                    again - timedelta(seconds=400),
                    "IP Address",
                    True,
                    100,
                    dict(item_codes(rng, first.participant.scores[tp.name])),
                )
            )
        # the survey team's own test run
        p = participants[0]
        when = datetime.combine(p.randomised_on + timedelta(days=tp.day - 2), datetime.min.time())
        out.append(
            SurveyResponse(
                p,
                tp.name,
                when,
                when - timedelta(seconds=60),
                "Survey Preview",
                True,
                100,
                dict(item_codes(rng, BASELINE_MEANS)),
            )
        )
    return out


BASELINE_MEANS = {code: mean for code, (mean, _) in BASELINE.items()}
# the share of participants withdrawing at each level (at least one each), and of those who
# stop the intervention and later withdraw from follow-up too (a raised level)
WITHDRAWAL_SHARES = {"intervention": 0.02, "follow_up": 0.015, "data": 0.005}
RAISED_SHARE = 0.25
WITHDRAWAL_REASONS = ("no_longer_wishes", "left_employer", "lost_contact", "other", None)


def _withdrawals(rng, study: Study, participants: list[Participant]) -> list[Withdrawal]:
    """Who withdraws, when and how far: the intervention only from its own arm; follow-up and
    data from either arm. Each row is a withdrawal; a raised level is a second row."""
    treatment = study.arms[1]
    chosen: set[str] = set()
    out = []
    for level, share in WITHDRAWAL_SHARES.items():
        pool = [
            p
            for p in participants
            if p.participant_id not in chosen and (level != "intervention" or p.arm == treatment)
        ]
        count = max(1, round(share * len(participants)))
        for i in rng.choice(len(pool), size=min(count, len(pool)), replace=False):
            p = pool[int(i)]
            chosen.add(p.participant_id)
            day = int(rng.integers(7, study.hr_period_days - 7))
            reason = WITHDRAWAL_REASONS[int(rng.integers(len(WITHDRAWAL_REASONS)))]
            out.append(Withdrawal(p, p.randomised_on + timedelta(days=day), level, reason))
            if level == "intervention" and rng.random() < RAISED_SHARE:
                later = p.randomised_on + timedelta(days=int(rng.integers(day + 1, study.hr_period_days)))
                out.append(Withdrawal(p, later, "follow_up", reason))
    return sorted(out, key=lambda w: (w.withdrawn_on, w.participant.participant_id))


def _counts(deliveries: list[Delivery]) -> dict[str, dict[str, int]]:
    """Per participant, their contacts and how many were delivered, opened and completed, as the
    platform's engagement mart counts them (docs/instruments.md, engagement)."""
    counts: dict[str, dict[str, int]] = {}
    for d in deliveries:
        c = counts.setdefault(
            d.participant.participant_id, {"due": 0, "delivered": 0, "opened": 0, "completed": 0}
        )
        c["due"] += 1
        c["delivered"] += d.status == "Delivered"
        c["opened"] += d.human_opens > 0
        c["completed"] += d.completed_at is not None
    return counts


def _compliers(study: Study, participants: list[Participant], deliveries: list[Delivery]) -> set[str]:
    """Who, in the intervention arm, received the intervention by the registry's rule."""
    offered = [p.participant_id for p in participants if p.arm == study.arms[1]]
    if study.compliance is None:
        return set(offered)
    counts = _counts(deliveries)
    return {
        pid for pid in offered
        if complies(study.compliance, counts.get(pid, {}), counts.get(pid, {}).get("due", 0))
    }  # fmt: skip


# Each instrument's measured range, and the spread of its items about the score (item_codes):
# near a bound, an effect moves the measured score less than the latent one.
MEASURED = {"SWEMWBS": (7.0, 35.0, 0.0), "CBI_WORK": (0.0, 100.0, 15.0), "BELONG": (1.0, 5.0, 0.6),
            "ITQ": (1.0, 5.0, 0.6)}  # fmt: skip
QUANTILES = np.array([0.5 + (i - 31.5) / 64 for i in range(64)])


def _measured(code: str, latent: np.ndarray) -> np.ndarray:
    """The expected measured score for each latent one: the items dither without bias between
    their levels, each clipped to the scale."""
    from scipy.stats import norm

    low, high, spread = MEASURED[code]
    noise = norm.ppf(QUANTILES) * spread
    return np.clip(latent[:, None] + noise[None, :], low, high).mean(axis=1)


def _add_effects(study: Study, participants, compliers: set[str], share: float, post: list[str]) -> dict:
    """Add each survey outcome's effect, divided by the share who received the intervention, to
    their scores; returns the complier effect per outcome and timepoint as measured: the mean,
    over those who received it, of the expected measured score with it minus without it."""
    effects = study.generator["effects"]
    chosen = [p for p in participants if p.participant_id in compliers]
    truth: dict[str, dict[str, float]] = {}
    for code in BASELINE:
        for tp in post:
            effect = float(effects.get(code, {}).get(tp, 0.0)) / share if share else 0.0
            latent = np.array([p.scores[tp][code] for p in chosen])
            measured = (
                float((_measured(code, latent + effect) - _measured(code, latent)).mean()) if chosen else 0.0
            )
            truth.setdefault(code, {})[tp] = measured
            for p in chosen:
                p.scores[tp][code] += effect
    return {code: truth[code] for code in study.feeds.get("survey", {}).get("items", {})}


def _withdrawal_counts(withdrawals: list[Withdrawal]) -> dict[str, int]:
    highest = _highest(withdrawals)
    return {level: sum(1 for w in highest if w.level == level) for level in WITHDRAWAL_LEVELS}


def _highest(withdrawals: list[Withdrawal]) -> list[Withdrawal]:
    rank = {level: i for i, level in enumerate(WITHDRAWAL_LEVELS)}
    highest: dict[str, Withdrawal] = {}
    for w in withdrawals:
        kept = highest.get(w.participant.participant_id)
        if kept is None or rank[w.level] > rank[kept.level]:
            highest[w.participant.participant_id] = w
    return list(highest.values())


def _absences(rng, study: Study, participants: list[Participant]) -> list[Absence]:
    rates = study.generator["sickness_spells_per_period"]
    out = []
    horizon = study.hr_period_days + 60
    for p in participants:
        start_day = max(-90, (p.hire_date - p.randomised_on).days)
        end_day = horizon if p.termination_date is None else (p.termination_date - p.randomised_on).days
        span = end_day - start_day
        if span <= 0:
            continue
        n_sick = rng.poisson(rates[p.arm] * span / study.hr_period_days)
        kinds = [("SICK", None)] * n_sick + [("ANNUAL", None)] * rng.poisson(2 * span / 182)
        if rng.random() < 0.01:
            kinds.append(("PARENTAL", None))
        taken: list[tuple[date, date]] = []
        for kind, _ in kinds:
            begin = start_day + int(rng.integers(0, span))
            length = 1 + int(rng.lognormal(1.0, 0.9)) if kind == "SICK" else int(rng.integers(1, 10))
            if kind == "PARENTAL":
                length = 120
            start = p.randomised_on + timedelta(days=begin)
            end = min(start + timedelta(days=length - 1), p.randomised_on + timedelta(days=end_day))
            if end < start or any(start <= b and a <= end for a, b in taken):
                continue  # one absence at a time per person
            taken.append((start, end))
            reason = str(rng.choice(HRIS_SICK_REASONS, p=HRIS_SICK_WEIGHTS)) if kind == "SICK" else None
            out.append(Absence(p, kind, reason, start, end))
    return out


def _deliveries(rng, study: Study, participants, treatment: str) -> list[Delivery]:
    kind, count = study.contacts.get("kind"), int(study.contacts.get("count", 0))
    uptake = study.generator.get("module_uptake", {})
    out = []
    for p in participants:
        if p.arm != treatment:
            continue
        launched_before = True
        for week in range(1, count + 1):
            sent = datetime.combine(p.randomised_on + timedelta(days=7 * week), datetime.min.time())
            sent += timedelta(hours=9, seconds=int(rng.integers(0, 600)))
            gone = p.termination_date is not None and p.termination_date < sent.date()
            if kind == "letter":
                returned = gone or rng.random() < 0.03
                out.append(
                    Delivery(
                        p,
                        week,
                        sent,
                        "Returned" if returned else "Delivered",
                        returned_on=sent.date() + timedelta(days=int(rng.integers(5, 20)))
                        if returned
                        else None,
                    )
                )
                continue
            if kind == "module":
                # few start, fewer go on, almost no one completes (studies/goal_setting.yml: under 2%)
                p_launch = uptake.get("launched", 0.1) if week == 1 else 0.6
                launched = launched_before and not gone and rng.random() < p_launch
                launched_before = launched
                d = Delivery(p, week, sent, "Delivered")
                if launched:
                    d.launched_at = sent + timedelta(days=int(rng.integers(0, 6)), hours=3)
                    if rng.random() < 0.5:
                        d.completed_at = d.launched_at + timedelta(minutes=int(rng.integers(10, 90)))
                out.append(d)
                continue
            status = str(rng.choice(["Delivered", "Failed", "FilteredAsSpam"], p=[0.97, 0.02, 0.01]))
            if gone:
                status = "Failed"
            d = Delivery(p, week, sent, status)
            if status == "Delivered":
                d.machine_opens = int(rng.random() < 0.35)  # mail privacy proxies open everything
                d.human_opens = int(rng.random() < 0.55) * int(rng.integers(1, 3))
                d.clicks = int(d.human_opens > 0 and rng.random() < 0.2)
            out.append(d)
    return out
