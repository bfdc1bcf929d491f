"""`hhp generate`: simulate studies and write their partner files and truth.json."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from generator.simulate import simulate
from generator.writers import write_study
from hhp.registry import load_registry


def generate(
    out: Path,
    studies: list[str] | None = None,
    seed: int = 42,
    scale: float = 1.0,
    standard_forms: bool = False,
) -> dict:
    """Simulate and write the studies; with standard_forms, every file in its format's standard
    form, whatever real-export variants the registry asks for (the benchmarks' base)."""
    registry = load_registry()
    if standard_forms:
        registry = {
            study_id: dataclasses.replace(
                study, generator={k: v for k, v in study.generator.items() if k != "export_variants"}
            )
            for study_id, study in registry.items()
        }
    chosen = studies or sorted(registry)
    unknown = [s for s in chosen if s not in registry]
    if unknown:
        raise ValueError(f"unknown studies {unknown}; registered: {sorted(registry)}")
    out.mkdir(parents=True, exist_ok=True)
    truth, files = {}, []
    for study_id in chosen:
        data = simulate(registry[study_id], seed=seed, scale=scale)
        files += write_study(data, out, seed)
        truth[study_id] = data.truth
    (out / "truth.json").write_text(json.dumps(truth, indent=2, sort_keys=True))
    return {"files": files, "truth": truth}
