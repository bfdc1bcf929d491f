"""One adapter module per partner format, named after it (hhp.formats lists the formats); the
registry says which applies to a study's feed."""

from importlib import import_module
from types import ModuleType

from hhp.formats import FORMATS

ADAPTERS: dict[str, ModuleType] = {fmt: import_module(f"{__name__}.{fmt}") for fmt in FORMATS}


def reference(fmt: str, study) -> tuple[str, str] | None:
    """(column, allocation column) every row of the format must resolve, if any: an adapter
    whose link depends on the study's registry entry says so through its reference()."""
    adapter = ADAPTERS[fmt]
    return adapter.reference(study) if hasattr(adapter, "reference") else adapter.REFERENCE
