"""No value reaches SQL as text except through hhp.sql's two quoting functions.

A lint over the platform's own code (not the tests): in every string that reads as SQL, a
value spliced in by an f-string, str.format, % or + must not be put between quotes by hand
(`'{path}'`, `"{column}"`), nor use repr (`{x!r}`), nor name a partner's or the registry's
or the environment's value (a path, a file name or key, a header, a study's settings)
unless it is passed through quote_literal or quote_identifier. Bound parameters need
nothing. The second half of the file tests the quoting functions on hostile text.
"""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from hhp.sql import UnsafeText, quote_identifier, quote_literal

ROOT = Path(__file__).resolve().parents[1]
CODE = ("hhp", "ingest", "expectations", "analysis", "infra", "dags", "airflow_settings", "benchmarks")
SQL_WORDS = re.compile(
    r"\b(select|insert\s+into|update\s+\S+\s+set|delete\s+from|create\s+(or\s+replace\s+)?"
    r"(temp\s+|temporary\s+)?(table|view|macro|schema|index|role)|drop\s+(table|view|schema)|"
    r"alter\s+(table|role|default)|grant|revoke|copy|attach|install|load|read_csv|read_json|"
    r"from\s+\w|where|strptime|regexp_\w+|cast\(|trim\(|nullif\(|coalesce\(|values\s*\()\b",
    re.IGNORECASE,
)
# names whose values come from a file, its name, the registry or the environment
TAINTED = re.compile(
    r"\b(path|paths|file_key|landed|name|names|header|headers|cell|cells|row|pattern|"
    r"feed_spec|study_id|registry|item_map|partner|environ|getenv|settings|url|key)\b"
)
QUOTING = {"quote_literal", "quote_identifier"}
QUOTES_ALONE = {"''", '""'}  # f"'{x}'" or f'"{x}"': a fragment of SQL quoted by hand


def _is_quoting_call(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name | ast.Attribute)
        and (node.func.id if isinstance(node.func, ast.Name) else node.func.attr) in QUOTING
    )


def _constant_text(parts: list[ast.AST]) -> str:
    return "".join(p.value for p in parts if isinstance(p, ast.Constant) and isinstance(p.value, str))


def _problems_in_fstring(node: ast.JoinedStr, source: str) -> list[str]:
    text = _constant_text(node.values)
    if text in QUOTES_ALONE and len(node.values) == 3:
        return [f"{text[0]}{{...}}{text[0]}: an identifier or literal quoted by hand"]
    if not SQL_WORDS.search(text):
        return []
    found = []
    for i, part in enumerate(node.values):
        if not isinstance(part, ast.FormattedValue):
            continue
        expression = ast.get_source_segment(source, part.value) or ""
        before = node.values[i - 1] if i else None
        after = node.values[i + 1] if i + 1 < len(node.values) else None
        left = before.value[-1:] if isinstance(before, ast.Constant) and isinstance(before.value, str) else ""
        right = after.value[:1] if isinstance(after, ast.Constant) and isinstance(after.value, str) else ""
        if "chr(" in expression:
            found.append(f"{{{expression}}}: a quote character made by hand")
        elif part.conversion == ord("r"):
            found.append(f"{{{expression}!r}}: repr is not SQL quoting")
        elif left in "'\"" and left and left == right:
            found.append(f"{left}{{{expression}}}{right}: quoted by hand")
        elif TAINTED.search(expression) and not _is_quoting_call(part.value):
            found.append(f"{{{expression}}}: a file's, registry's or environment's value as SQL text")
    return found


def _problems_in_operation(node: ast.AST) -> list[str]:
    """'...' % value, '...'.format(value) and '...' + value + '...' on SQL text."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        if isinstance(node.left, ast.Constant) and isinstance(node.left.value, str):
            text = node.left.value
            if SQL_WORDS.search(text) and re.search(r"%[^s%]|%s", text.replace("%%", "")):
                return ["'...' % value on SQL text (use bound parameters)"]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        target = node.func.value
        if (
            isinstance(target, ast.Constant)
            and isinstance(target.value, str)
            and SQL_WORDS.search(target.value)
        ):
            return ["'...'.format(value) on SQL text"]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        for side, other in ((node.left, node.right), (node.right, node.left)):
            if (
                isinstance(side, ast.Constant)
                and isinstance(side.value, str)
                and SQL_WORDS.search(side.value)
                and (side.value.endswith(("'", '"')) or side.value.startswith(("'", '"')))
                and not (isinstance(other, ast.Constant) or _is_quoting_call(other))
            ):
                return ["a quote closed around a concatenated value"]
    return []


def sql_text_problems(path: Path) -> list[str]:
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    found = []
    for node in ast.walk(tree):
        problems = _problems_in_fstring(node, source) if isinstance(node, ast.JoinedStr) else []
        problems += _problems_in_operation(node)
        found += [f"{path.relative_to(ROOT.parent) if ROOT.parent in path.parents else path}:"
                  f"{node.lineno}: {p}" for p in problems]  # fmt: skip
    return found


def code_files(root: Path = ROOT) -> list[Path]:
    return sorted(p for folder in CODE for p in (root / folder).rglob("*.py") if "/." not in str(p))


def test_no_value_reaches_sql_as_text():
    found = [problem for path in code_files() for problem in sql_text_problems(path)]
    assert not found, "SQL built from values outside hhp.sql's quoting:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "added",
    [
        "    ctx.con.execute(f\"select * from read_csv('{ctx.path}')\")\n",
        '    ctx.con.execute(f"select * from read_csv({ctx.path!r})")\n',
        '    ctx.con.execute(f"select {header[0]} from source")\n',
        "    ctx.con.execute(\"select * from read_json('%s')\" % ctx.path)\n",
        "    ctx.con.execute(\"select * from read_json('{}')\".format(ctx.path))\n",
        '    ctx.con.execute("select * from read_csv(\'" + str(ctx.path) + "\')")\n',
        "    ctx.con.execute(f'select nullif(trim(\"{column}\"), \\'\\') from source')\n",
        "    columns = ', '.join(f'\"{c}\"' for c in HEADER)\n",
    ],
)
def test_the_lint_catches_a_value_spliced_into_sql(tmp_path, added):
    """A scratch copy of the platform with one adapter's parse given a spliced value fails."""
    for folder in CODE:
        if (ROOT / folder).exists():
            shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    adapter = tmp_path / "ingest" / "adapters" / "hr_leavers_csv.py"
    text = adapter.read_text()
    adapter.write_text(
        text.replace(
            "def parse(ctx: ParseContext) -> str:\n", "def parse(ctx: ParseContext) -> str:\n" + added, 1
        )
    )
    assert not sql_text_problems(
        tmp_path
        / "ingest"
        / "adapters"
        / "hr_leavers_csv.py".replace("hr_leavers_csv.py", "allocation_csv.py")
    )
    found = [problem for path in code_files(tmp_path) for problem in sql_text_problems(path)]
    assert len(found) == 1 and "hr_leavers_csv.py" in found[0], found


HOSTILE = [
    "o'brien",
    'a "quoted" name',
    "x'); drop table raw.allocation_csv; --",
    'x"; drop table t; --',
    "\\'; select 1; --",
    "' or 1=1 --",
    "/* comment */",
    "-- comment",
    "*",
    "é ü 名前 😀",
    "line\nbreak",
    "tab\tand\rreturn",
    "''''",
    '""""',
    "a" * 5000,
]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_quoted_literal_reads_back_as_itself(value):
    con = duckdb.connect()
    assert con.execute(f"select {quote_literal(value)}").fetchone()[0] == value
    assert len(con.extract_statements(f"select {quote_literal(value)}")) == 1


@pytest.mark.parametrize("value", HOSTILE)
def test_a_quoted_identifier_names_exactly_that_column(value):
    con = duckdb.connect()
    con.execute(f"create table t ({quote_identifier(value)} varchar)")
    con.execute("insert into t values ('ok')")
    assert [row[0] for row in con.execute("describe t").fetchall()] == [value]
    assert con.execute(f"select {quote_identifier(value)} from t").fetchone()[0] == "ok"


def test_values_of_other_kinds_are_typed_literals():
    from datetime import date, datetime

    con = duckdb.connect()
    values = [None, True, False, 0, -12, 2.5, date(2026, 8, 11), datetime(2026, 8, 11, 9, 30, 5)]
    row = con.execute("select " + ", ".join(quote_literal(v) for v in values)).fetchone()
    assert list(row) == values


@pytest.mark.parametrize("value", ["nul\x00byte", float("nan"), float("inf")])
def test_what_no_quoting_makes_safe_is_refused(value):
    with pytest.raises(UnsafeText):
        quote_literal(value)
    if isinstance(value, str):
        with pytest.raises(UnsafeText):
            quote_identifier(value)
