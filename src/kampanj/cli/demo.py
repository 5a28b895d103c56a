"""`kampanj demo`: build a demo account end to end and describe it."""

from __future__ import annotations

import shlex
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.columns import Columns
from rich.table import Table

from kampanj.cli.common import DbOption, JsonOption, console, handle_user_errors, print_json
from kampanj.cli.progress import progress_reporter
from kampanj.clock import Clock, SystemClock
from kampanj.engine.batch import run_batch
from kampanj.engine.runs import RunResult
from kampanj.errors import UserError
from kampanj.ingest.activities import import_activities
from kampanj.ingest.people import import_people
from kampanj.ingest.report import ActivityImportReport, ImportReport
from kampanj.model.campaigns import CampaignType
from kampanj.services.apply import AppliedDefinitions, apply_paths
from kampanj.store.database import Database
from kampanj.store.registry import load_activity_types, load_field_registry
from kampanj.store.repositories.reading import read_definitions
from kampanj.store.summary import AccountSummary, account_summary
from kampanj.synthetic import CustomValue, write_activities_jsonl, write_people_csv

LIFECYCLE_STAGES = ("Lead", "Engaged", "MQL", "SQL")

DEFAULT_EXAMPLES = Path("examples/lead-lifecycle")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)


@handle_user_errors
def demo_command(
    db: DbOption = None,
    as_json: JsonOption = False,
    people: Annotated[int, typer.Option(help="People to generate.", min=1)] = 10_000,
    activities_per_person: Annotated[
        int, typer.Option(help="Activity history rows per person, on average.", min=0)
    ] = 5,
    examples: Annotated[
        Path, typer.Option(help="Definitions to apply (file or directory).")
    ] = DEFAULT_EXAMPLES,
    workdir: Annotated[
        Path | None, typer.Option(help="Where to write the generated CSV and JSONL files.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the generated population.")] = 7,
) -> None:
    """Build a demo account: schema, example definitions, people and history; then summarise."""
    if not examples.exists():
        raise UserError(
            f"{examples} does not exist: run the demo from the repository root or pass --examples"
        )
    started = time.perf_counter()
    clock = SystemClock()
    database = Database.open(db)
    database.migrate()
    applied = apply_paths(database, [examples])

    with tempfile.TemporaryDirectory() as scratch:
        directory = workdir or Path(scratch)
        directory.mkdir(parents=True, exist_ok=True)
        people_file = directory / "people.csv"
        history_file = directory / "activities.jsonl"
        write_people_csv(people_file, people, seed=seed, custom=_custom_columns(database))
        people_report = _import_people(database, people_file, clock, quiet=as_json)
        write_activities_jsonl(
            history_file, people, people * activities_per_person, seed=seed, now=clock.now()
        )
        history_report = _import_activities(database, history_file, clock, quiet=as_json)

    runs = _run_batch_campaigns(database, clock)
    with database.read() as connection:
        summary = account_summary(connection, load_activity_types(connection))
    seconds = time.perf_counter() - started
    if as_json:
        print_json(
            {
                "database": database.display_url,
                "applied": applied.to_dict(),
                "people": people_report.to_dict(),
                "activities": history_report.to_dict(),
                "runs": [run.to_json() for run in runs],
                "summary": asdict(summary),
                "seconds": round(seconds, 3),
            }
        )
        return
    _print_summary(database, examples, applied, summary, seconds)
    _print_runs(runs)


@dataclass(frozen=True, kw_only=True, slots=True)
class DemoRun:
    """One batch campaign the demo ran, or why it could not."""

    campaign: str
    result: RunResult | None
    refused: str | None = None

    def to_json(self) -> dict[str, object]:
        if self.result is None:
            return {"campaign": self.campaign, "refused": self.refused}
        return {"campaign": self.campaign, **self.result.to_json()}


def _run_batch_campaigns(database: Database, clock: Clock) -> list[DemoRun]:
    """Run every batch campaign of the applied definitions once, now, in id order."""
    with database.read() as connection:
        definitions = read_definitions(connection)
    batch = sorted(
        (
            c
            for c in definitions.campaigns
            if c.type is CampaignType.BATCH and not c.executable and c.id is not None
        ),
        key=lambda c: c.id or 0,
    )
    runs: list[DemoRun] = []
    for campaign in batch:
        path = "/".join((*campaign.folder, campaign.name))
        try:
            started = run_batch(database, clock, path, workspace=campaign.workspace)
        except UserError as refused:
            runs.append(DemoRun(campaign=campaign.name, result=None, refused=str(refused)))
            continue
        runs.append(DemoRun(campaign=campaign.name, result=started.result))
    return runs


def _print_runs(runs: list[DemoRun]) -> None:
    if not runs:
        return
    table = Table(title="Batch campaigns run now", title_justify="left")
    for column in ("campaign", "run", "status", "qualified", "waiting", "steps"):
        table.add_column(column)
    for run in runs:
        if run.result is None:
            table.add_row(run.campaign, "-", "not run", "", "", run.refused or "")
            continue
        result = run.result
        steps = "; ".join(
            f"{path}: {step.executed} done"
            + (f", {step.skipped} skipped" if step.skipped else "")
            + (f", {step.blocked} blocked" if step.blocked else "")
            + (f", {step.errors} errors" if step.errors else "")
            for path, step in result.steps.items()
        )
        table.add_row(
            run.campaign,
            str(result.run_id),
            result.status.value,
            f"{result.qualified or 0:,}",
            f"{result.waiting:,}",
            steps,
        )
    console.print(table)


def _custom_columns(database: Database) -> dict[str, CustomValue]:
    """Extra CSV columns: reachability flags, and the example's custom fields if applied."""
    with database.read() as connection:
        registry = load_field_registry(connection)
    # SL-18: an empty boolean matches neither `is true` nor `is false`, so the example's
    # Reachable list needs these flags set; derived from the index, they leave the random
    # stream (and every other generated value) unchanged.
    makers: dict[str, CustomValue] = {
        "emailInvalid": lambda _rng, index: "true" if index % 53 == 0 else "false",
        "marketingSuspended": lambda _rng, index: "true" if index % 71 == 0 else "false",
    }
    if registry.get("behaviorScore") is not None:
        makers["behaviorScore"] = lambda rng, _index: rng.randrange(0, 120)
    if registry.get("lifecycleStage") is not None:
        makers["lifecycleStage"] = lambda rng, _index: rng.choice(LIFECYCLE_STAGES)
    return makers


def _import_people(
    database: Database, path: Path, clock: SystemClock, *, quiet: bool
) -> ImportReport:
    with progress_reporter("Importing people", disabled=quiet) as on_progress:
        return import_people(database, path, clock=clock, on_progress=on_progress)


def _import_activities(
    database: Database, path: Path, clock: SystemClock, *, quiet: bool
) -> ActivityImportReport:
    with progress_reporter("Importing activity history", disabled=quiet) as on_progress:
        return import_activities(database, path, clock=clock, on_progress=on_progress)


def _print_summary(
    database: Database,
    examples: Path,
    applied: AppliedDefinitions,
    summary: AccountSummary,
    seconds: float,
) -> None:
    console.rule(f"[bold]kampanj demo[/] — {database.display_url}")
    written = applied.report.to_dict()
    created = sum(len(names) for names in written["created"].values())
    counts = applied.to_dict()
    console.print(
        f"Applied {examples}: {created} definitions created, "
        f"{counts['errors']} errors, {counts['warnings']} warnings.",
        highlight=False,
    )
    account = Table(title="Account", show_header=False, title_justify="left")
    account.add_column("what")
    account.add_column("count", justify="right")
    account.add_row("workspaces", str(summary.workspaces))
    account.add_row("folders / programs", f"{summary.folders} / {summary.programs}")
    for kind, count in sorted(summary.campaigns_by_type.items()):
        account.add_row(f"{kind} campaigns", str(count))
    account.add_row("static lists / smart lists", f"{summary.static_lists} / {summary.smart_lists}")
    account.add_row("emails", str(summary.emails))
    account.add_row("custom fields", str(summary.custom_fields))
    account.add_row("people", f"{summary.people:,}")
    account.add_row("activities", f"{sum(summary.activities_by_type.values()):,}")
    history = Table(title="Activity history", title_justify="left")
    history.add_column("activity type")
    history.add_column("count", justify="right")
    for name, count in summary.activities_by_type.items():
        history.add_row(name, f"{count:,}")
    console.print(Columns([account, history]))
    console.print(f"Done in {seconds:.1f} s. Next:")
    command, url = _how_we_were_called(), database.url
    console.print(f"  {command} people show 1 --db {url}", highlight=False)
    console.print(f"  {command} lint examples/lead-lifecycle --db {url}", highlight=False)
    console.print(f"  {command} runs --db {url}", highlight=False)


def _how_we_were_called() -> str:
    """``kampanj`` as the user ran it (e.g. ``.venv/bin/kampanj`` from `make demo`)."""
    invoked = Path(sys.argv[0])
    return shlex.quote(str(invoked)) if invoked.name == "kampanj" else "kampanj"
