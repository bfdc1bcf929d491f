"""One adapter module per partner format; the registry says which applies to a feed."""

from types import ModuleType

from ingest.adapters import (
    allocation_csv,
    exchange_message_trace_csv,
    hr_leavers_csv,
    hr_roster_csv,
    hris_absence_json,
    qualtrics_csv,
)

ADAPTERS: dict[str, ModuleType] = {
    module.FORMAT: module
    for module in (
        allocation_csv,
        hr_roster_csv,
        hr_leavers_csv,
        hris_absence_json,
        exchange_message_trace_csv,
        qualtrics_csv,
    )
}
