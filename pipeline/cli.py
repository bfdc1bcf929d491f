"""`hhp`: the platform's command line."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import NoReturn

import click
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn
from rich.table import Table

from generator import generate as run_generate
from hhp.config import load_settings, masked, setting, settings_table, uses_demo_key
from hhp.errors import ExpectedError
from hhp.registry import check_registry, registry_dir
from hhp.study_schema import json_schema
from infra import aws, postgres_roles
from ingest import quarantine as quarantined
from ingest.keys import rotate_demo_key
from ingest.keys import rotate_key as rotate
from ingest.landing import files_under, open_landing
from orchestration import local as airflow_local
from pipeline.status import empty_counts as _no_files
from pipeline.status import freshness, ledger_status, reconcile
from transform.dbt import write_docs

# no telemetry from any library, whatever the caller's environment
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("AIRFLOW__COSMOS__ENABLE_TELEMETRY", "False")

# On a terminal rich fits output to its width; to a file or a pipe nothing wraps or is cut.
_TERMINAL = sys.stdout.isatty()
console = Console() if _TERMINAL else Console(soft_wrap=True, width=100_000)
errors = Console(stderr=True, soft_wrap=True, highlight=False)


def _expected(error: Exception) -> list[str] | None:
    """The one-line message(s) of a failure a person can act on, or None for a bug."""
    import botocore.exceptions as aws_errors

    if isinstance(error, ExpectedError):
        return error.lines()
    if isinstance(error, aws_errors.ProfileNotFound | aws_errors.PartialCredentialsError):
        return [str(error)]
    if isinstance(error, aws_errors.NoCredentialsError):
        return ["no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE"]
    if isinstance(error, aws_errors.ClientError):
        detail = error.response.get("Error", {})
        code, message = detail.get("Code", "?"), detail.get("Message", "")
        return [f"AWS refused {error.operation_name}: {code} {message}".strip()]
    if isinstance(error, aws_errors.EndpointConnectionError):
        return [f"cannot reach {error.kwargs.get('endpoint_url', 'the AWS endpoint')}"]
    return None


class _Commands(typer.core.TyperGroup):
    """Every command's expected errors as `error: ...`, one line each, exit status 1; the
    traceback only at HHP_LOG_LEVEL=DEBUG."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception as error:
            lines = _expected(error)
            if lines is None or setting("log_level").upper() == "DEBUG":
                raise
            for line in lines:
                errors.print(f"[red]error:[/red] {escape(line)}")
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=_Commands, help="Wellbeing programme data platform.", no_args_is_help=True, add_completion=False
)


@app.callback()
def configure_logging() -> None:
    """Logs to stderr at HHP_LOG_LEVEL (default WARNING); they never hold an identifier."""
    import logging

    level = setting("log_level").upper() or "WARNING"
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


def _stages():
    """The chain's stages (pipeline.chain), imported on first use."""
    from pipeline import chain  # deferred: the stages import GE, dbt and statsmodels (6 s)

    return chain


def _spinner(text: str):
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    progress.add_task(text, total=None)
    return progress


def _fail(message: str) -> NoReturn:
    for line in message.splitlines() or [message]:
        errors.print(f"[red]error:[/red] {escape(line)}")
    raise typer.Exit(1)


def _dbt_progress(text: str):
    """A bar of dbt's nodes (models, seeds, tests) on a terminal; (progress, on_node)."""
    columns = (
        SpinnerColumn(),
        TextColumn(text),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
    )
    progress = Progress(*columns, console=console, transient=True, disable=not console.is_terminal)
    task = progress.add_task("", total=None)

    def on_node(done: int, total: int, name: str) -> None:
        progress.update(task, completed=done, total=total or None, description=name)

    return progress, on_node


@app.command()
def generate(
    out: Path = typer.Option(..., "--out", help="Folder to write <study_id>/<feed>/<file> into."),
    studies: list[str] = typer.Option(None, "--studies", help="Study ids (default: all registered)."),
    seed: int = typer.Option(42, "--seed"),
    scale: float = typer.Option(1.0, "--scale", help="Multiply each study's population."),
    standard_forms: bool = typer.Option(
        False, "--standard-forms", help="Every file in its standard form, not the real exports' variants."
    ),
) -> None:
    """Simulate studies and write their partner files, with truth.json beside them."""

    with _spinner("generating partner files"):
        try:
            result = run_generate(out, studies or None, seed, scale, standard_forms)
        except ValueError as error:  # an unknown study, a bad scale; a RegistryError is one too
            _fail(str(error))
    console.print(f"wrote {len(result['files'])} files and truth.json to {out}")


@app.command()
def land(
    paths: list[Path] = typer.Argument(..., help="Files, or folders laid out as <study_id>/<feed>/<file>."),
) -> None:
    """Put files into the landing area (local folder or S3)."""

    settings = load_settings()
    landing = open_landing(settings)
    try:
        files = [(f, k) for f, k in files_under(paths) if f.name != "truth.json"]
    except FileNotFoundError as error:
        _fail(str(error))
    for file, key in files:
        landing.put(file, key)
    console.print(f"landed {len(files)} files in {settings.landing}")


def _ingest(settings) -> list:
    pipeline = _stages()

    pending = len(open_landing(settings).list())
    columns = (
        SpinnerColumn(),
        TextColumn("ingesting"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
    )
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as progress:
        task = progress.add_task("", total=pending)

        def advance(result) -> None:
            progress.update(task, advance=1, description=result.file_key)

        results = pipeline.ingest(settings, advance)
    loaded = sum(r.state == "loaded" for r in results)
    rows = sum(r.rows for r in results)
    quarantined = [r for r in results if r.state == "quarantined"]
    waiting = [r for r in results if r.state == "waiting"]
    rejected = sum(r.rows_rejected for r in results)
    skipped = sum(r.state == "skipped" for r in results)
    console.print(
        f"ingest: {loaded} files loaded ({rows} rows, {rejected} rows rejected), "
        f"{len(quarantined)} quarantined, {len(waiting)} waiting, {skipped} already done"
    )
    for r in waiting:
        console.print(f"  [cyan]waiting[/cyan] {escape(f'{r.file_key}: {r.reason}')}", soft_wrap=True)
    for r in quarantined:
        console.print(f"  [yellow]quarantined[/yellow] {escape(r.reason)}", soft_wrap=True)
    return results


@app.command()
def ingest() -> None:
    """Load every file waiting in the landing area."""
    _ingest(load_settings())


@app.command()
def build(
    full: bool = typer.Option(False, "--full", help="Rebuild everything, not only what new files touch."),
) -> None:
    """Build the dbt project (seeds, models, tests) on the warehouse: what the files loaded
    since the last build touch, or everything the first time, after a change to the project or
    the registry, or with --full."""
    pipeline = _stages()

    progress, on_node = _dbt_progress("dbt build")
    with progress:
        scope = pipeline.build(load_settings(), full, on_node)
    if scope == "nothing new":
        console.print("build: nothing loaded since the last build; the models are up to date")
    else:
        console.print(f"build ({scope}): dbt models and tests passed")


@app.command()
def gate() -> None:
    """Run the quality checks; exit 1 if a fatal check fails."""

    # deferred: Great Expectations takes 4 s to import, which other commands need not pay
    from expectations.gate import data_docs_path, enforce, run_gate, summary

    settings = load_settings()
    with _spinner("quality checks"):
        results = run_gate(settings)
    table = Table("study", "category", "passed", "failed", "error", "not applicable", title="quality gate")
    for study, category, counts in summary(results):
        failed = counts["failed"]
        table.add_row(
            study,
            category,
            str(counts["passed"]),
            f"[red]{failed}[/red]" if failed else "0",
            f"[red]{counts['error']}[/red]" if counts["error"] else "0",
            str(counts["not_applicable"]),
        )
    console.print(table)
    warnings = [r for r in results if r.severity != "fatal" and r.status == "failed"]
    for r in warnings:
        console.print(f"[yellow]warning[/yellow] {escape(f'{r.check_name} [{r.study_id}]: {r.detail}')}")
    console.print(f"Data Docs: {data_docs_path(settings)}")
    _say_withheld(enforce(results, settings))


@app.command()
def docs() -> None:
    """dbt's documentation of every model and column, the public interface (marts, reporting
    views) and who reads what (exposures), as one static page that opens offline."""
    with _spinner("dbt docs"):
        path = write_docs(load_settings())
    console.print(f"docs: {path}")


@app.command()
def report(
    release: str | None = typer.Option(
        None, "--release", help="A data release's report (`hhp release list`), in reports/releases/NAME."
    ),
) -> None:
    """Write the programme report (HTML) and its CSVs: of the data as built, or of a data release."""
    pipeline = _stages()

    with _spinner("building the report"):
        path = pipeline.report(load_settings(), release)
    console.print(f"report: {path}")


release_app = typer.Typer(
    cls=_Commands, help="Data releases: named, immutable cuts of the data for interim and final analyses.",
    no_args_is_help=True,
)  # fmt: skip
app.add_typer(release_app, name="release")


@release_app.command("create")
def release_create(
    name: str = typer.Argument(..., help="The release's name, e.g. interim-1 (lower case, digits, . _ -)."),
    cut: datetime = typer.Option(
        ..., "--cut", formats=["%Y-%m-%d"], help="Cut-off date: data dated after it is left out."
    ),
) -> None:
    """Make a data release of everything loaded now, cut at --cut: the build and the gate are
    brought up to date first; `hhp report --release NAME` then gives the same figures whenever
    it is run, whatever lands later."""
    pipeline = _stages()

    with _spinner(f"data release {name}"):
        made = pipeline.create_release(load_settings(), name, cut.date())
    console.print(
        f"release {made.name}: cut {made.cut_on:%Y-%m-%d}, {made.files} files ({made.file_set}), "
        f"made by {escape(made.created_by)}"
    )
    for study, reasons in sorted(made.withheld.items()):
        console.print(f"[yellow]withheld[/yellow] {study} in this release: {escape('; '.join(reasons))}")


@app.command()
def lock(
    study: str = typer.Argument(..., help="The study's registry id."),
    release: str = typer.Option(..., "--release", help="The data release its final analysis runs on."),
) -> None:
    """Lock a study's database on a data release (final, recorded: who, when, which release);
    the report then shows its final analysis as locked on that release."""
    pipeline = _stages()

    made = pipeline.lock(load_settings(), study, release)
    console.print(
        f"locked {made.study_id} on release {made.release_name} "
        f"({made.locked_at:%Y-%m-%d %H:%M} UTC, by {escape(made.locked_by)})"
    )


@release_app.command("list")
def release_list(as_json: bool = typer.Option(False, "--json", help="As JSON, for scripts.")) -> None:
    """Every data release: name, cut, when and by whom it was made, its files."""
    pipeline = _stages()

    made = pipeline.list_releases(load_settings())
    if as_json:
        _print_json([{"name": r.name, "cut_on": r.cut_on.isoformat(), "created_by": r.created_by,
                      "created_at": r.created_at.isoformat() + "Z", "files": r.files, "file_set": r.file_set,
                      "withheld": sorted(r.withheld)} for r in made])  # fmt: skip
        return
    table = Table(
        "release", "cut", "made (UTC)", "by", "files", "withheld", title=f"{len(made)} data releases"
    )
    for r in made:
        table.add_row(r.name, f"{r.cut_on:%Y-%m-%d}", f"{r.created_at:%Y-%m-%d %H:%M}", escape(r.created_by),
                      str(r.files), ", ".join(sorted(r.withheld)) or "-")  # fmt: skip
    console.print(table)


def _say_withheld(held: dict[str, list[str]]) -> None:
    for study, reasons in sorted(held.items()):
        console.print(f"[yellow]withheld[/yellow] {study} from the report: {escape('; '.join(reasons))}")


def _run_chain(settings) -> Path:
    pipeline = _stages()

    _ingest(settings)
    progress, on_node = _dbt_progress("dbt build")
    with progress:
        scope = pipeline.build(settings, on_node=on_node)
    console.print(f"build ({scope}): dbt models and tests passed")
    with _spinner("quality gate"):
        results, held = pipeline.gate(settings)
    counts = Counter(r.status for r in results)
    warnings = sum(r.status == "failed" and r.severity != "fatal" for r in results)
    console.print(
        f"gate: {len(results)} checks, {counts['passed']} passed, {warnings} warning(s), "
        f"{counts['not_applicable']} not applicable; Data Docs in {settings.home / 'data_docs'}"
    )
    _say_withheld(held)
    with _spinner("building the report"):
        return pipeline.report(settings)


@app.command()
def run() -> None:
    """The whole chain on what has landed: ingest, build, gate, report."""
    settings = load_settings()
    path = _run_chain(settings)
    console.print(f"report: {path}")


@app.command()
def demo(
    studies: list[str] = typer.Option(None, "--studies", help="Study ids (default: all registered)."),
    seed: int = typer.Option(42, "--seed"),
) -> None:
    """Generate, land and run every registered study's files end to end."""

    started = time.monotonic()
    settings = load_settings()
    if settings.is_postgres or settings.landing.startswith("s3://"):
        console.print("note: demo runs on the configured warehouse and landing area")
    if uses_demo_key(settings):
        console.print(
            f"note: using a local demo pseudonym key ({settings.key_file}); "
            "set HHP_PSEUDONYM_KEY for real data"
        )
    generated = settings.home / "generated"
    shutil.rmtree(generated, ignore_errors=True)
    with _spinner("generating partner files"):
        result = run_generate(generated, studies or None, seed)
    console.print(f"generated {len(result['files'])} partner files in {generated}")
    landing = open_landing(settings)
    files = [(f, k) for f, k in files_under([generated]) if f.name != "truth.json"]
    for file, key in files:
        landing.put(file, key)
    console.print(f"landed {len(files)} files")
    path = _run_chain(settings)
    console.print(f"[bold]warehouse:[/bold] {settings.warehouse}")
    console.print(f"[bold]report:[/bold]    {path}")
    console.print(f"[bold]for leads:[/bold] {path.parent / 'reporting.duckdb'} (the reporting views only)")
    console.print(f"[bold]truth:[/bold]     {generated / 'truth.json'}")
    console.print(f"done in {time.monotonic() - started:.0f} s")


def _print_json(value) -> None:
    print(json.dumps(value, indent=2, default=str, ensure_ascii=False))


@app.command()
def check(
    schema: bool = typer.Option(False, "--schema", help="Print the study files' JSON Schema instead."),
) -> None:
    """Check every study file of the registry and report every problem at once: file, key path
    and what is wrong. Exit 1 if there is any. Ingest, build and the DAGs refuse to start on a
    registry with problems, so no partner file is quarantined for a mistake in it."""
    if schema:
        print(json_schema(), end="")
        return
    problems = check_registry()
    if problems:
        for problem in problems:
            errors.print(f"[red]error:[/red] {escape(str(problem))}")
        raise typer.Exit(1)
    studies = sorted(p.stem for p in registry_dir().glob("*.yml"))
    console.print(
        f"registry {registry_dir()}: {len(studies)} study files, no problems ({', '.join(studies)})"
    )


quarantine_app = typer.Typer(
    cls=_Commands, help="What is held in quarantine, and sending files back.", no_args_is_help=True
)
app.add_typer(quarantine_app, name="quarantine")


@quarantine_app.command("list")
def quarantine_list(
    as_json: bool = typer.Option(False, "--json", help="As JSON, for scripts."),
) -> None:
    """Every file in quarantine: file, study, feed, since when (UTC) and why."""
    held = quarantined.held(load_settings())
    if as_json:
        _print_json([{"file": f.file_key, "study_id": f.study_id, "feed": f.feed,
                      "since": f.since.isoformat() + "Z", "reason": f.reason} for f in held])  # fmt: skip
        return
    table = Table("file", "study", "feed", "since (UTC)", "reason", title=f"{len(held)} files in quarantine")
    for f in held:
        table.add_row(
            escape(f.file_key),
            f.study_id or "-",
            f.feed or "-",
            f"{f.since:%Y-%m-%d %H:%M}",
            escape(f.reason),
        )
    console.print(table)


@quarantine_app.command("release")
def quarantine_release(
    files: list[str] = typer.Argument(..., help="Files as `hhp quarantine list` names them."),
    reason: str = typer.Option(..., "--reason", help="Why it may be loaded now, for the audit record."),
) -> None:
    """Send files back to the landing area, to be loaded by the next ingest as if new (and
    quarantined again, with the new reason, if still bad). Each release is recorded in
    ops.quarantine_releases: who, when, why."""
    released = quarantined.release(load_settings(), files, reason)
    for f in released:
        console.print(f"released {escape(f.file_key)} (quarantined {f.since:%Y-%m-%d %H:%M} UTC)")
    console.print(f"{len(released)} file(s) back in the landing area; `hhp ingest` loads them")


@app.command()
def status(
    as_json: bool = typer.Option(False, "--json", help="As JSON, for scripts."),
) -> None:
    """Per study and feed: files loaded, quarantined, waiting, and whether the feed is overdue
    by its registered cadence; exit 1 if the files do not reconcile."""

    settings = load_settings()
    counts, fresh = ledger_status(settings), freshness(settings)
    check = reconcile(counts)
    keys = sorted(set(counts) | set(fresh))
    if as_json:

        def feed(key):
            f = fresh.get(key)
            due = {"last_file": f.last_file, "last_extract": f.last_extract, "due_by": f.due_by,
                   "overdue": f.overdue, "freshness": f.detail} if f else {}  # fmt: skip
            return {"study_id": key[0], "feed": key[1], **counts.get(key, _no_files()), **due}

        _print_json({
            "feeds": [feed(key) for key in keys],
            "reconciliation": {"holds": check.holds, "landed": check.landed, "loaded": check.loaded,
                               "quarantined": check.quarantined, "waiting": check.waiting,
                               "mismatches": check.mismatches},
        })  # fmt: skip
        raise typer.Exit(0 if check.holds else 1)
    table = Table(
        "study", "feed", "loaded", "quarantined", "waiting", "rows loaded", "last extract", "due by"
    )
    for key in keys:
        c, f = counts.get(key, _no_files()), fresh.get(key)
        due = "-" if f is None or f.due_by is None else str(f.due_by)
        if f is not None and f.overdue:
            due = f"[red]overdue since {f.due_by}[/red]"
        last = str(f.last_extract) if f is not None and f.last_extract else "-"
        table.add_row(
            *key, str(c["loaded"]), str(c["quarantined"]), str(c["waiting"]), str(c["rows"]), last, due
        )
    console.print(table)
    for f in (f for f in fresh.values() if f.overdue):
        console.print(f"[yellow]overdue[/yellow] {f.study_id}/{f.feed}: {escape(f.detail)}")
    summary = (f"{check.landed} landed = {check.loaded} loaded + {check.quarantined} quarantined "
               f"+ {check.waiting} waiting")  # fmt: skip
    if not check.holds:
        _fail("reconciliation does not hold: " + summary + "; " + "; ".join(check.mismatches))
    console.print(f"reconciled: {summary}")


@app.command()
def config(
    markdown: bool = typer.Option(
        False, "--markdown", help="The settings table of the README, from Settings."
    ),
) -> None:
    """Every HHP_* setting in effect (secrets shown only as set), or, with --markdown, the table
    of all settings with their defaults and meanings."""
    if markdown:
        print(settings_table(), end="")
        return
    settings = load_settings()
    table = Table("variable", "value", "from", box=None)
    for variable, value, from_environment in masked(settings):
        table.add_row(variable, escape(value) or "-", "environment" if from_environment else "default")
    console.print(table)


@app.command()
def airflow(port: int = typer.Option(8080, help="Port of the UI and API, on 127.0.0.1.")) -> None:
    """Start Airflow locally on the embedded default (standalone, SQLite metadata, local landing
    folder, DuckDB), with the project's DAGs unpaused and the UI on 127.0.0.1."""

    settings = load_settings()
    console.print(f"Airflow on http://127.0.0.1:{port} (home {settings.home / 'airflow'}); Ctrl-C stops it")
    raise typer.Exit(airflow_local.run(settings, port))


@app.command("rotate-key")
def rotate_key() -> None:
    """Re-key every pseudonym from HHP_PSEUDONYM_KEY to HHP_NEW_PSEUDONYM_KEY (reading each
    loaded file again from the archive), in one transaction, then rebuild the models in full.
    Afterwards set HHP_PSEUDONYM_KEY to the new key. With the local demo key and no new key
    given, a new demo key is made and kept in its place."""
    pipeline = _stages()

    settings = load_settings()
    new_key = settings.new_pseudonym_key
    demo = uses_demo_key(settings) and not new_key
    if not new_key and not demo:
        _fail("set HHP_NEW_PSEUDONYM_KEY to the new key (from your secret store)")
    with _spinner("re-keying pseudonyms"):
        try:
            result = rotate_demo_key(settings) if demo else rotate(settings, new_key.encode())
        except FileNotFoundError as error:  # an archived file the rotation must read again
            _fail(str(error))
    if result is None:
        console.print("finished a rotation that was interrupted after it committed")
    else:
        rows = sum(result.rows_rekeyed.values())
        console.print(
            f"re-keyed {result.pseudonyms} pseudonyms in {rows} rows, from {result.files_read} archived files"
        )
    with _spinner("dbt build (full)"):
        pipeline.build(settings, full=True)
    then = "the demo key was replaced" if demo else "now set HHP_PSEUDONYM_KEY to the new key"
    console.print(f"models rebuilt; {then}")


infra_app = typer.Typer(cls=_Commands, help="Provision what the platform runs on.", no_args_is_help=True)
app.add_typer(infra_app, name="infra")


@infra_app.command("up")
def infra_up(
    prefix: str = typer.Option(
        "hhp", help="Names: <prefix>-landing, -archive, -quarantine, -landing-events."
    ),
    endpoint_url: str | None = typer.Option(None, help="An S3/SQS endpoint other than AWS (moto, MinIO...)."),
    region: str = typer.Option("eu-west-2"),
) -> None:
    """Buckets (private, encrypted, versioned), the event queue with its dead-letter queue, the
    landing bucket's notification, and the Airflow connection; idempotent."""
    import json

    landing = aws.provision(prefix, endpoint_url, region)
    settings = load_settings()
    env = landing.environment() | {
        "AIRFLOW_CONN_HHP_AWS": json.dumps(aws.airflow_connection(endpoint_url, region))
    }
    path = settings.home / "infra.env"
    path.parent.mkdir(parents=True, exist_ok=True)
    # the shell sources it: each value in single quotes, any quote in it ended, escaped, reopened
    lines = "".join(f"{name}='" + value.replace("'", "'\\''") + "'\n" for name, value in env.items())
    path.write_text(lines, encoding="utf-8")
    for name, value in env.items():
        console.print(f"{name}={value}", highlight=False, markup=False)
    console.print(f"written to {path} (no credential in it)")


@infra_app.command("roles")
def infra_roles() -> None:
    """PostgreSQL's roles, schemas and grants for least privilege (idempotent). Connects as the
    database owner from HHP_PG_ADMIN_URL; each role's password, if any, from
    HHP_LOADER_PASSWORD, HHP_TRANSFORMER_PASSWORD, HHP_ANALYST_PASSWORD, HHP_LEAD_PASSWORD."""

    settings = load_settings()
    if not settings.pg_admin_url:
        _fail("set HHP_PG_ADMIN_URL to the database owner's postgresql:// URL")
    for note in postgres_roles.provision(settings.pg_admin_url, settings.role_passwords()):
        console.print(f"[yellow]note[/yellow] {escape(note)}")
    for role, access in postgres_roles.ACCESS.items():
        writes, reads = ", ".join(access.writes) or "-", ", ".join(access.reads) or "-"
        console.print(f"{role}: writes {writes}; reads {reads}")


def main() -> None:  # pragma: no cover
    sys.exit(app())
