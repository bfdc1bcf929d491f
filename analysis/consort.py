"""The CONSORT participant flow of a study as inline SVG (the report makes no outside request):
randomised, allocated to each arm, received the intervention, withdrew at each level, and
analysed at each wave. Every count arrives disclosure-controlled (`c` under 10, else rounded
to 5); the total is shown only where no arm's count is suppressed, which would reveal it."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

WIDTH, BOX_WIDTH, LINE, PAD, GAP = 760, 330, 17, 8, 26
COLUMNS = (40, 390)  # each arm's boxes' left edge
WITHDRAWAL_STAGES = {
    "withdrew: intervention": "from the intervention",
    "withdrew: follow_up": "from follow-up",
    "withdrew: data": "their data (erased)",
}


@dataclass(frozen=True)
class Arm:
    name: str
    allocated: str
    received: str  # a disclosed count, or words ("not offered", "not measured")
    withdrawn: dict[str, str]  # level label -> disclosed count
    analysed: list[tuple[str, str]]  # (wave, disclosed count)


def _box(x: int, y: int, width: int, lines: list[tuple[str, bool]]) -> tuple[str, int]:
    """A box of text lines (bold where asked); returns its SVG and height."""
    height = PAD * 2 + LINE * len(lines)
    parts = [f'<rect x="{x}" y="{y}" width="{width}" height="{height}" rx="4" class="box"/>']
    for i, (text, bold) in enumerate(lines):
        weight = ' font-weight="600"' if bold else ""
        parts.append(f'<text x="{x + PAD}" y="{y + PAD + LINE * (i + 1) - 4}"{weight}>{escape(text)}</text>')
    return "".join(parts), height


def _arrow(x: int, y1: int, y2: int) -> str:
    return (
        f'<line x1="{x}" y1="{y1}" x2="{x}" y2="{y2 - 5}" class="flow"/>'
        f'<path d="M{x - 4},{y2 - 7} L{x},{y2} L{x + 4},{y2 - 7} Z" class="head"/>'
    )


def consort_svg(title: str, randomised_total: str, arms: list[Arm]) -> str:
    parts, y = [], 10
    top, height = _box(WIDTH // 2 - 150, y, 300, [(f"Randomised: {randomised_total}", True)])
    parts.append(top)
    split = y + height + GAP // 2
    parts.append(f'<line x1="{WIDTH // 2}" y1="{y + height}" x2="{WIDTH // 2}" y2="{split}" class="flow"/>')
    centres = [x + BOX_WIDTH // 2 for x in COLUMNS]
    parts.append(f'<line x1="{centres[0]}" y1="{split}" x2="{centres[1]}" y2="{split}" class="flow"/>')
    bottom = 0
    for x, centre, arm in zip(COLUMNS, centres, arms, strict=True):
        boxes = [
            [(f"Allocated to {arm.name}: {arm.allocated}", True), (f"Received it: {arm.received}", False)],
            [("Withdrew", True), *((f"{label}: {n}", False) for label, n in arm.withdrawn.items())],
            [("Analysed", True), *((f"{wave}: {n}", False) for wave, n in arm.analysed)],
        ]  # fmt: skip
        row, previous = split + GAP // 2 + 4, split
        for lines in boxes:
            parts.append(_arrow(centre, previous, row))
            box, height = _box(x, row, BOX_WIDTH, lines)
            parts.append(box)
            previous, row = row + height, row + height + GAP
        bottom = max(bottom, row)
    style = (
        "<style>.box{fill:#fff;stroke:#555;stroke-width:1}.flow{stroke:#555;stroke-width:1.2}"
        ".head{fill:#555}text{font:13px sans-serif;fill:#222}</style>"
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {bottom}" width="{WIDTH}" '
        f'height="{bottom}" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f"{style}{''.join(parts)}</svg>"
    )
