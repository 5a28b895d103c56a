"""`kampanj run CAMPAIGN`, `kampanj runs`, `kampanj runs show ID` (CMP-8, GEN-6)."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

import typer
from rich.table import Table

from kampanj.cli.common import (
    DbOption,
    JsonOption,
    console,
    err_console,
    handle_user_errors,
    open_database,
    print_json,
)
from kampanj.cli.schedule import schedule_command
from kampanj.cli.trace_view import show_trace
from kampanj.clock import SystemClock
from kampanj.engine.batch import run_batch
from kampanj.engine.runs import DEFAULT_CHUNK_SIZE, RunResult, list_runs, load_result
from kampanj.engine.worker import hand_over
from kampanj.queue.backends import open_queue
from kampanj.queue.consumer import chunk_message
from kampanj.tokens.overrides import parse_override_argument

runs_app = typer.Typer(help="Runs and their per-step results.", invoke_without_command=True)


def _print_result(result: RunResult) -> None:
    console.print(
        f"run {result.run_id}: [bold]{result.status.value}[/] — cohort {result.cohort}, "
        f"qualified {result.qualified}" + (f", waiting {result.waiting}" if result.waiting else ""),
        highlight=False,
    )
    table = Table("step", "executed", "skipped", "errors", "choices", "skipped because")
    for path, step in result.steps.items():
        table.add_row(
            path,
            str(step.executed),
            str(step.skipped),
            str(step.errors),
            ", ".join(f"{k}: {v}" for k, v in step.choices.items()),
            ", ".join(f"{k}: {v}" for k, v in step.skip_reasons.items()),
        )
    if result.steps:
        console.print(table)
    for kind, issues in (("error", result.errors), ("warning", result.warnings)):
        for issue in issues[:20]:
            who = f" person {issue['personId']}" if issue.get("personId") else ""
            where = f" step {issue['stepId']}" if issue.get("stepId") else ""
            console.print(
                f"{kind} {issue['code']}{where}{who}: {issue['message']}", highlight=False
            )
        if len(issues) > 20:
            console.print(f"… and {len(issues) - 20} more {kind}s (use --json)")


@handle_user_errors
def run_command(
    campaign: Annotated[str, typer.Argument(help="Batch campaign name or Folder/…/Name path.")],
    token: Annotated[
        list[str] | None,
        typer.Option("--token", help='Per-run My Token override, e.g. "{{my.Points}}=+10".'),
    ] = None,
    workspace: Annotated[
        str | None, typer.Option("--workspace", help="Workspace of the campaign.")
    ] = None,
    at: Annotated[
        str | None,
        typer.Option("--at", help="Schedule for this ISO-8601 time (naive = account zone)."),
    ] = None,
    enqueue: Annotated[
        bool,
        typer.Option("--enqueue", help="Qualify now; `kampanj worker` processes execute it."),
    ] = False,
    queue: Annotated[
        str | None, typer.Option("--queue", help="Work queue URL (see `kampanj worker`).")
    ] = None,
    chunk_size: Annotated[
        int, typer.Option("--chunk-size", help="People per chunk (one transaction).", min=1)
    ] = DEFAULT_CHUNK_SIZE,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run a batch campaign now, inline, and show its per-step results (or schedule it,
    or hand it to workers with --enqueue)."""
    overrides = [parse_override_argument(t) for t in token or []]
    if at is not None:
        schedule_command(campaign, at, overrides, workspace, db, as_json)
        return
    database = open_database(db)
    try:
        work = open_queue(queue, database.url) if enqueue else None
        started = run_batch(
            database,
            SystemClock(),
            campaign,
            workspace=workspace,
            overrides=overrides,
            chunk_size=chunk_size,
            execute_now=work is None,
        )
        if work is not None:
            queued = work

            def send(run_id: int, chunk: int) -> None:
                queued.put(chunk_message(run_id, chunk))

            result = hand_over(database, SystemClock(), started.result.run_id, send)
            started = replace(started, result=result)
            work.close()
    finally:
        database.dispose()
    ignored = [issue.message for issue in started.ignored]
    if as_json:
        print_json({**started.result.to_json(), "ignoredOverrides": ignored})
        return
    for message in ignored:
        err_console.print(f"[yellow]warning:[/] {message}", highlight=False)
    _print_result(started.result)


def _summary(row: Any) -> dict[str, Any]:
    return {
        "runId": row["id"],
        "campaignId": row["campaign_id"],
        "kind": row["kind"],
        "status": row["status"],
        "cohort": row["cohort"],
        "qualified": row["qualified"],
        "startedAt": row["started_at"],
        "finishedAt": row["finished_at"],
    }


@runs_app.callback()
@handle_user_errors
def runs_list(ctx: typer.Context, db: DbOption = None, as_json: JsonOption = False) -> None:
    """List runs, newest first."""
    if ctx.invoked_subcommand is not None:
        return
    database = open_database(db)
    try:
        with database.read() as connection:
            rows = [_summary(r) for r in list_runs(connection)]
    finally:
        database.dispose()
    if as_json:
        print_json({"runs": rows})
        return
    table = Table("run", "campaign", "kind", "status", "cohort", "qualified", "started")
    for r in rows:
        table.add_row(
            *(str(r[k]) for k in ("runId", "campaignId", "kind", "status", "cohort", "qualified")),
            str(r["startedAt"] or ""),
        )
    console.print(table)


@runs_app.command("show")
@handle_user_errors
def runs_show(
    run_id: Annotated[int, typer.Argument(help="Run id (see `kampanj runs`).")],
    person: Annotated[
        int | None,
        typer.Option("--person", help="Trace this person through the run (PROV-3)."),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """One run's result (GEN-6), or with --person the nested execution for one person."""
    if person is not None:
        show_trace(run_id, person, db, as_json)
        return
    database = open_database(db)
    try:
        with database.read() as connection:
            result = load_result(connection, run_id)
    finally:
        database.dispose()
    if as_json:
        print_json(result.to_json())
        return
    _print_result(result)


def register(app: typer.Typer) -> None:
    app.command("run")(run_command)
    app.add_typer(runs_app, name="runs")
