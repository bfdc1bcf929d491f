"""One adapter module per partner format; the registry says which applies to a feed."""

from types import ModuleType

from ingest.adapters import (
    allocation_csv,
    esr_absence_csv,
    exchange_message_trace_csv,
    hr_leavers_csv,
    hr_roster_csv,
    hris_absence_json,
    postal_dispatch_csv,
    qualtrics_csv,
    redcap_csv,
    sendgrid_events_jsonl,
    xapi_statements_json,
)

ADAPTERS: dict[str, ModuleType] = {
    module.FORMAT: module
    for module in (
        allocation_csv,
        hr_roster_csv,
        hr_leavers_csv,
        hris_absence_json,
        esr_absence_csv,
        exchange_message_trace_csv,
        sendgrid_events_jsonl,
        postal_dispatch_csv,
        xapi_statements_json,
        qualtrics_csv,
        redcap_csv,
    )
}
