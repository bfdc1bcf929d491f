"""A check's result as the platform reports it: counts, the first failing line and, for a
column that holds nothing personal, an example; never an identifier's value."""

from __future__ import annotations

import re
from dataclasses import dataclass

from hhp.pseudonymise import mask_identifiers, masked_example

# what a system's code looks like (an event name, a status): short, one line, no identifier
CODE_LIKE = re.compile(r"[\w .,:/()'-]{1,40}")


@dataclass
class Finding:
    suite: str
    expectation: str
    column: str | None
    unexpected: int
    total: int
    first_line: int | None
    example: str | None
    error: bool = False  # the expectation could not be evaluated
    passed: bool = False
    check: str | None = None  # the catalogue check it implements (the expectation's meta)
    observed: object = None
    shown_as_is: bool = False  # the column holds codes from a closed list, nothing personal
    # (rowid, line) of every failing row of the parsed file, where the rule is row-level
    failing_rows: tuple[tuple[int, int], ...] | None = None

    def row_reason(self) -> str:
        """Why one row was left out: the rule it broke, no value."""
        where = f"column '{self.column}' " if self.column else ""
        return f"{where}fails {self.expectation}"

    def describe(self) -> str:
        where = f"column '{self.column}' " if self.column else ""
        example = ""
        if self.example is not None:
            # masked whole, then cut: a cut through an email would hide it from the mask
            value = self.example
            if self.shown_as_is and CODE_LIKE.fullmatch(value) and mask_identifiers(value) == value:
                shown = value
            else:
                shown = masked_example(value)
            example = f" (e.g. {shown[:40]!r})"
        return (
            f"{where}fails {self.expectation} in {self.unexpected} of {self.total} rows{example} "
            f"[rule: {self.suite}]"
        )
