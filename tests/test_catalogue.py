"""The check catalogue is complete and well-formed."""

from __future__ import annotations

from expectations.gate import load_catalogue
from expectations.landing import SUITES
from hhp.formats import FORMATS

SUBCATEGORIES = {
    "conformance": {"value", "relational", "computational"},
    "completeness": {"atemporal", "temporal"},
    "plausibility": {"uniqueness", "atemporal", "temporal"},
}


def test_every_check_has_a_kahn_category_level_severity_and_a_justified_threshold():
    catalogue = load_catalogue(None)
    assert len(catalogue) >= 25
    for entry in catalogue.values():
        assert entry.subcategory in SUBCATEGORIES[entry.category], entry.id
        assert entry.level in {"file", "table", "field"}, entry.id
        assert entry.severity in {"fatal", "warning", "quarantine"}, entry.id
        assert entry.stage in {"landing", "analysis_ready"}, entry.id
        assert entry.description.strip(), entry.id
        assert entry.threshold >= 0, entry.id
        assert entry.threshold == 0 or (entry.justification or "").strip(), (
            f"{entry.id}: threshold unjustified"
        )


def test_landing_checks_cover_every_format_and_stop_at_quarantine():
    landing = load_catalogue("landing")
    assert {e.severity for e in landing.values()} == {"quarantine"}
    assert {e.level for e in landing.values()} >= {"file", "field"}
    assert set(SUITES) == set(FORMATS)
