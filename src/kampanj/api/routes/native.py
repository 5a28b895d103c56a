"""The native API under ``/kampanj/v1`` (NAT-1): runs, trace, abort, explain, lint, apply,
ledger — the same services as the CLI, behind the REST authentication and envelope.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import Connection, or_, select

from kampanj.api.envelope import (
    ACCESS_DENIED,
    BLANK,
    INVALID_REQUEST,
    OBJECT_NOT_FOUND,
    ApiError,
    Reply,
    success_body,
)
from kampanj.api.idempotency import IdempotencyKey, once
from kampanj.api.requests import body_object, json_body
from kampanj.api.security import Caller, Executor, Reader, Writer
from kampanj.definitions.findings import findings_summary
from kampanj.engine.abort import abort_run
from kampanj.engine.runs import list_runs, load_result, load_run_row
from kampanj.engine.trace import build_trace
from kampanj.model.account import Definitions
from kampanj.services.apply import apply_paths, check
from kampanj.services.explain_campaign import explain_in
from kampanj.smartlist.evaluation import load_smart_list
from kampanj.smartlist.explain import explain_rules
from kampanj.store.definitions_repo import read_definitions
from kampanj.store.registry import load_field_registry
from kampanj.store.schema import outbox, run
from kampanj.tokens.stored import load_token_tree

router = APIRouter(prefix="/kampanj/v1", tags=["native"])
MAX_RUNS = 200  # runs per GET /runs call
_YAML_SUFFIXES = (".yaml", ".yml")


def _campaign_workspaces(definitions: Definitions) -> dict[int, str]:
    return {c.id: c.workspace for c in definitions.campaigns if c.id is not None}


def _check_run(connection: Connection, caller: Caller, run_id: int) -> None:
    """1013 for an unknown run, 603 when its campaign is outside the caller's scope."""
    exists = connection.execute(select(run.c.campaign_id).where(run.c.id == run_id)).first()
    if exists is None:
        raise ApiError(OBJECT_NOT_FOUND, f"Run {run_id} not found")
    workspace = _campaign_workspaces(read_definitions(connection)).get(exists.campaign_id)
    if workspace is not None:
        caller.check_workspace(workspace, f"run {run_id}")


@router.get("/runs")
def get_runs(
    caller: Reader, limit: Annotated[int, Query(ge=1, le=MAX_RUNS)] = 50
) -> dict[str, Any]:
    """Newest runs first with their results (GEN-6)."""
    with caller.context.database.read() as connection:
        workspaces = _campaign_workspaces(read_definitions(connection))
        rows = list_runs(connection, limit)
        results = [
            load_result(connection, row["id"]).to_json()
            for row in rows
            if caller.user.reaches(workspaces.get(row["campaign_id"], ""))
            or row["campaign_id"] not in workspaces
        ]
    return success_body(Reply(result=results))


@router.get("/runs/{run_id:int}")
def get_run(caller: Reader, run_id: int) -> dict[str, Any]:
    """One run result with per-step counts and token overrides (NAT-1, GEN-6)."""
    with caller.context.database.read() as connection:
        _check_run(connection, caller, run_id)
        return success_body(Reply(result=[load_result(connection, run_id).to_json()]))


@router.get("/runs/{run_id:int}/trace")
def get_trace(
    caller: Reader, run_id: int, person: Annotated[int | None, Query()] = None
) -> dict[str, Any]:
    """The nested execution of one person in a run (PROV-3)."""
    if person is None:
        raise ApiError(BLANK, "person cannot be blank")
    with caller.context.database.read() as connection:
        _check_run(connection, caller, run_id)
        load_run_row(connection, run_id)
        tree, definitions = load_token_tree(connection)
        trace = build_trace(
            connection, run_id, person, definitions, tree, load_field_registry(connection)
        )
    return success_body(Reply(result=[trace.to_json()]))


@router.post("/runs/{run_id:int}/abort")
def abort(caller: Executor, keyed: IdempotencyKey, run_id: int) -> dict[str, Any]:
    """Abort an unfinished run (CMP-29); ``Idempotency-Key`` replays (LEDG-6)."""
    return once(caller, keyed, lambda: _abort(caller, run_id))


def _abort(caller: Caller, run_id: int) -> dict[str, Any]:
    with caller.context.database.read() as connection:
        _check_run(connection, caller, run_id)
    result = abort_run(caller.context.database, caller.context.clock, run_id)
    return success_body(Reply(result=[result.to_json()]))


@router.post("/explain")
def explain(caller: Reader, document: Annotated[Any, Depends(json_body)]) -> dict[str, Any]:
    """Would the person qualify for the campaign (or be in the smart list) now, and why
    (EXPL-1, EXPL-2)."""
    body = body_object(document)
    person = body.get("person")
    campaign_id, smart_list_id = body.get("campaign"), body.get("smartList")
    if not isinstance(person, int) or (campaign_id is None) == (smart_list_id is None):
        raise ApiError(
            INVALID_REQUEST, "give person and one of campaign or smartList, as integer ids"
        )
    if smart_list_id is not None:
        return success_body(Reply(result=[_explain_smart_list(caller, smart_list_id, person)]))
    if not isinstance(campaign_id, int):
        raise ApiError(INVALID_REQUEST, "campaign must be an integer id")
    activity = body.get("activity")
    caller_path = body.get("callerPath") or []
    if not isinstance(caller_path, list):
        raise ApiError(INVALID_REQUEST, "callerPath must be a list of campaign names")
    with caller.context.database.read() as connection:
        definitions = read_definitions(connection)
        found = next((c for c in definitions.campaigns if c.id == campaign_id), None)
        if found is None:
            raise ApiError(OBJECT_NOT_FOUND, f"Campaign {campaign_id} not found")
        caller.check_workspace(found.workspace, f"campaign {campaign_id}")
        explanation = explain_in(
            connection,
            caller.context.clock,
            "/".join((*found.folder, found.name)),
            person,
            activity_id=activity if isinstance(activity, int) else None,
            caller_path=[str(p) for p in caller_path],
            workspace=found.workspace,
        )
    return success_body(Reply(result=[explanation.to_json()]))


def _explain_smart_list(caller: Caller, smart_list_id: object, person: int) -> dict[str, Any]:
    """EXPL-1 ``--smart-list``: each rule of a stand-alone smart list for one person."""
    if not isinstance(smart_list_id, int) or isinstance(smart_list_id, bool):
        raise ApiError(INVALID_REQUEST, "smartList must be an integer id")
    with caller.context.database.read() as connection:
        definitions = read_definitions(connection)
        found = next((s for s in definitions.smart_lists if s.id == smart_list_id), None)
        if found is None:
            raise ApiError(OBJECT_NOT_FOUND, f"Smart list {smart_list_id} not found")
        caller.check_workspace(found.workspace, f"smart list {smart_list_id}")
        loaded = load_smart_list(
            connection, caller.context.clock, found.name, workspace=found.workspace
        )
        explanation = explain_rules(connection, loaded.smart_list.rules, loaded.context, person)
    return {
        "smartList": loaded.smart_list.name,
        "smartListId": smart_list_id,
        **explanation.to_json(),
    }


@contextmanager
def _files(body: dict[str, Any]) -> Iterator[list[Path]]:
    """``files: {"name.yaml": "text", …}`` written to a private temporary directory."""
    files = body.get("files")
    if not isinstance(files, dict) or not files:
        raise ApiError(BLANK, 'files cannot be blank: give {"name.yaml": "YAML text"}')
    with tempfile.TemporaryDirectory(prefix="kampanj-api-") as directory:
        paths = []
        for index, (name, text) in enumerate(files.items()):
            if not isinstance(text, str):
                raise ApiError(INVALID_REQUEST, f"files[{name!r}] must be YAML text")
            stem = Path(str(name)).name  # never a path the caller chooses
            suffix = stem if stem.endswith(_YAML_SUFFIXES) else f"{stem}.yaml"
            path = Path(directory) / f"{index:04d}-{suffix}"
            path.write_text(text, encoding="utf-8")
            paths.append(path)
        yield paths


def _require_all_workspaces(caller: Caller) -> None:
    if caller.user.workspaces is not None:
        raise ApiError(
            ACCESS_DENIED, "Definitions may touch any workspace: this needs an all-workspace user"
        )


@router.post("/lint")
def lint(caller: Reader, document: Annotated[Any, Depends(json_body)]) -> dict[str, Any]:
    """Validate definitions over the stored state; writes nothing (VAL-1)."""
    _require_all_workspaces(caller)
    with _files(body_object(document)) as paths:
        with caller.context.database.read() as connection:
            _, findings = check(paths, read_definitions(connection), clock=caller.context.clock)
    return success_body(Reply(result=[findings_summary(findings)]))


@router.post("/apply")
def apply(
    caller: Writer, keyed: IdempotencyKey, document: Annotated[Any, Depends(json_body)]
) -> dict[str, Any]:
    """Validate and write definitions, all or nothing (VAL-3); ``force`` writes despite
    errors; ``Idempotency-Key`` replays (LEDG-6)."""
    return once(caller, keyed, lambda: _apply(caller, document))


def _apply(caller: Caller, document: Any) -> dict[str, Any]:
    _require_all_workspaces(caller)
    body = body_object(document)
    with _files(body) as paths:
        applied = apply_paths(
            caller.context.database,
            paths,
            force=bool(body.get("force", False)),
            clock=caller.context.clock,
        )
    return success_body(Reply(result=[applied.to_dict()]))


@router.get("/ledger")
def ledger(
    caller: Reader,
    run_id: Annotated[int | None, Query(alias="run")] = None,
    person: int | None = None,
) -> dict[str, Any]:
    """External-effect ledger rows of a run or a person (LEDG-5)."""
    if run_id is None and person is None:
        raise ApiError(BLANK, "run or person cannot both be blank")
    conditions = []
    if run_id is not None:
        conditions.append(outbox.c.run_id == run_id)
    if person is not None:
        conditions.append(outbox.c.person_id == person)
    with caller.context.database.read() as connection:
        if run_id is not None:
            _check_run(connection, caller, run_id)
        rows = connection.execute(
            select(outbox).where(or_(*conditions)).order_by(outbox.c.id)
        ).mappings()
        result = [
            {
                "ledgerKey": r["ledger_key"],
                "kind": r["kind"],
                "runId": r["run_id"],
                "personId": r["person_id"],
                "campaignId": r["campaign_id"],
                "callPath": r["call_path"],
                "state": r["state"],
                "attempts": r["attempts"],
                "messageId": r["message_id"],
                "error": r["error"],
                "createdAt": r["created_at"],
                "deliveredAt": r["delivered_at"],
            }
            for r in rows
        ]
    return success_body(Reply(result=result))
