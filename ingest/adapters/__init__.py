"""One adapter module per partner format, named after it (hhp.formats lists the formats); the
registry says which applies to a study's feed."""

from importlib import import_module
from types import ModuleType

from hhp.formats import FORMATS

ADAPTERS: dict[str, ModuleType] = {fmt: import_module(f"{__name__}.{fmt}") for fmt in FORMATS}
