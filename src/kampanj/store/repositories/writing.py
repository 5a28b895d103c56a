"""Writing definitions in the caller's transaction: create, update or leave unchanged.

Nothing is ever deleted: objects the input does not mention stay as they are (there is no
``--prune``). An object whose stored columns already equal what would be written gets no
UPDATE at all, so re-applying the same input keeps every ``updated_at``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, bindparam, func, insert, select, update

from kampanj.clock import Clock, SystemClock
from kampanj.errors import UserError
from kampanj.model.account import Definitions
from kampanj.model.names import fold
from kampanj.model.settings import AccountSettings
from kampanj.model.tree import FolderKind, FolderPath
from kampanj.store import codec, schema
from kampanj.store.registry import activity_type_to_row, add_custom_field, update_custom_field
from kampanj.store.repositories.merging import plan_merge
from kampanj.store.repositories.reading import (
    FolderIndex,
    fold_name,
    load_folder_index,
    read_definitions,
)
from kampanj.store.repositories.report import ApplyReport, Kind, Outcome

# Serialises concurrent applies on PostgreSQL (SQLite's BEGIN IMMEDIATE already does).
_APPLY_LOCK = 0x6B616D70  # "kamp"
_ID_CHUNK = 500  # ids per IN (...) list: well below every backend's parameter limit


@dataclass(frozen=True, kw_only=True, slots=True)
class _Pending:
    """One object to write: its stored id (None = create), columns and display name."""

    id: int | None
    row: dict[str, Any]
    name: str


def apply_definitions(
    connection: Connection,
    incoming: Definitions,
    *,
    clock: Clock | None = None,
) -> ApplyReport:
    """Write ``incoming`` over the stored definitions in the caller's transaction.

    Validation is the caller's job (VAL-3); this raises `UserError` only for changes that
    can never be made (EXE-1 executable flag, a field's type, WS-3 moves, unknown folders
    or channels), before or during writing; the caller's transaction then rolls back.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_advisory_xact_lock(_APPLY_LOCK)))
    now = (clock or SystemClock()).now()
    plan = plan_merge(read_definitions(connection), incoming)
    written = plan.written
    report = ApplyReport()
    writer = _Writer(connection, now, report)
    if written.settings is not None:
        writer.settings(written.settings)
    writer.workspaces(written)
    writer.fields(written)
    writer.activity_types(written)
    writer.channels(written)
    writer.webhooks(written)
    index = writer.folders(written)
    writer.tokens(written, index)
    writer.assets(written, index)
    return report


class _Writer:
    def __init__(self, connection: Connection, now: Any, report: ApplyReport) -> None:
        self.connection = connection
        self.now = now
        self.report = report

    # -- generic upsert --------------------------------------------------------------

    def upsert(
        self, table: Table, kind: Kind, pending: Sequence[_Pending], *, stamps: bool = True
    ) -> list[int]:
        """Insert new rows, update changed ones; returns the ids of ``pending`` in order."""
        stored = self._stored_rows(table, [p.id for p in pending if p.id is not None])
        inserts: list[_Pending] = []
        updates: list[_Pending] = []
        for item in pending:
            if item.id is None:
                inserts.append(item)
            elif _differs(item.row, stored[item.id]):
                updates.append(item)
            else:
                self.report.record(kind, Outcome.UNCHANGED, item.name)
        if updates:
            columns = sorted(updates[0].row)
            values: dict[str, Any] = {c: bindparam(f"v_{c}") for c in columns}
            if stamps:
                values["updated_at"] = bindparam("v_updated_at")
            self.connection.execute(
                update(table).where(table.c.id == bindparam("v_id")).values(values),
                [
                    {
                        "v_id": u.id,
                        **{f"v_{c}": u.row[c] for c in columns},
                        **({"v_updated_at": self.now} if stamps else {}),
                    }
                    for u in updates
                ],
            )
            for item in updates:
                self.report.record(kind, Outcome.UPDATED, item.name)
        new_ids: list[int] = []
        if inserts:
            extra = {"created_at": self.now, "updated_at": self.now} if stamps else {}
            result = self.connection.execute(
                insert(table).returning(table.c.id, sort_by_parameter_order=True),
                [{**item.row, **extra} for item in inserts],
            )
            new_ids = [row.id for row in result]
            for item in inserts:
                self.report.record(kind, Outcome.CREATED, item.name)
        fresh = iter(new_ids)
        return [item.id if item.id is not None else next(fresh) for item in pending]

    def _stored_rows(self, table: Table, ids: list[int]) -> dict[int, dict[str, Any]]:
        rows: dict[int, dict[str, Any]] = {}
        for start in range(0, len(ids), _ID_CHUNK):
            chunk = ids[start : start + _ID_CHUNK]
            for row in self.connection.execute(select(table).where(table.c.id.in_(chunk))):
                rows[row.id] = dict(row._mapping)
        return rows

    # -- account-level objects -------------------------------------------------------

    def settings(self, settings: AccountSettings) -> None:
        table = schema.setting
        stored = {row.name: row.value for row in self.connection.execute(select(table))}
        for name, value in codec.settings_to_json(settings).items():
            if name not in stored:
                self.connection.execute(insert(table).values(name=name, value=value))
                self.report.record(Kind.SETTINGS, Outcome.CREATED, name)
            elif _differs({"value": value}, {"value": stored[name]}):
                self.connection.execute(
                    update(table).where(table.c.name == name).values(value=value)
                )
                self.report.record(Kind.SETTINGS, Outcome.UPDATED, name)
            else:
                self.report.record(Kind.SETTINGS, Outcome.UNCHANGED, name)

    def workspaces(self, written: Definitions) -> None:
        pending = [
            _Pending(id=w.id, row={"name": w.name, "description": w.description}, name=w.name)
            for w in written.workspaces
        ]
        ids = self.upsert(schema.workspace, Kind.WORKSPACES, pending)
        # WS-4: every workspace has a root folder (named like the workspace).
        roots = [
            {
                "workspace_id": workspace_id,
                "parent_id": None,
                "kind": FolderKind.FOLDER.value,
                "name": item.name,
                "description": "",
                "created_at": self.now,
                "updated_at": self.now,
            }
            for item, workspace_id in zip(pending, ids, strict=True)
            if item.id is None
        ]
        if roots:
            self.connection.execute(insert(schema.folder), roots)

    def fields(self, written: Definitions) -> None:
        f = schema.field_def
        stored = {
            row.name: row
            for row in self.connection.execute(select(f).where(f.c.is_custom))
            if row.name in {d.name for d in written.fields}
        }
        for field in written.fields:
            row = stored.get(field.name)
            if row is None:
                add_custom_field(self.connection, field)
                self.report.record(Kind.FIELDS, Outcome.CREATED, field.name)
                continue
            wanted = {
                "display_name": field.display_name,
                "is_company": field.is_company,
                "html_encode": field.is_html_encoding_in_email,
                "read_only": field.read_only,
                "update_blocked": field.update_blocked,
            }
            if _differs(wanted, dict(row._mapping)):
                update_custom_field(self.connection, field)
                self.report.record(Kind.FIELDS, Outcome.UPDATED, field.name)
            else:
                self.report.record(Kind.FIELDS, Outcome.UNCHANGED, field.name)

    def activity_types(self, written: Definitions) -> None:
        """Custom activity types keep the id the author chose (ACT-10)."""
        table = schema.activity_type
        rows = [activity_type_to_row(t) for t in written.activity_types]
        stored = set(self._stored_rows(table, [row["id"] for row in rows]))
        existing = [
            _Pending(
                id=row["id"], row={k: v for k, v in row.items() if k != "id"}, name=row["name"]
            )
            for row in rows
            if row["id"] in stored
        ]
        self.upsert(table, Kind.ACTIVITY_TYPES, existing, stamps=False)
        new_rows = [row for row in rows if row["id"] not in stored]
        if new_rows:
            self.connection.execute(insert(table), new_rows)
            for row in new_rows:
                self.report.record(Kind.ACTIVITY_TYPES, Outcome.CREATED, row["name"])

    def channels(self, written: Definitions) -> None:
        pending = [
            _Pending(
                id=c.id,
                row={"name": c.name, "statuses": codec.statuses_to_json(c.statuses)},
                name=c.name,
            )
            for c in written.channels
        ]
        self.upsert(schema.channel, Kind.CHANNELS, pending)

    def webhooks(self, written: Definitions) -> None:
        pending = [
            _Pending(
                id=w.id,
                row={"name": w.name, "key": w.key, "definition": codec.webhook_to_json(w)},
                name=w.name,
            )
            for w in written.webhooks
        ]
        self.upsert(schema.webhook, Kind.WEBHOOKS, pending)

    # -- folders, tokens and assets --------------------------------------------------

    def folders(self, written: Definitions) -> FolderIndex:
        """Folders by depth, parents first; returns the index of the resulting tree."""
        channels = {
            fold_name(row.name): row.id
            for row in self.connection.execute(select(schema.channel.c.id, schema.channel.c.name))
        }
        index = load_folder_index(self.connection)
        for depth in sorted({len(f.path) for f in written.folders}):
            paths = index.by_path()
            workspaces = _workspace_ids(index)
            pending = []
            for folder in (f for f in written.folders if len(f.path) == depth):
                name = "/".join((folder.workspace, *folder.path))
                channel_id = None
                if folder.channel is not None:
                    channel_id = channels.get(fold_name(folder.channel))
                    if channel_id is None:
                        raise UserError(
                            f"program {name} uses channel {folder.channel!r}, which is not "
                            "defined; define it under channels"
                        )
                pending.append(
                    _Pending(
                        id=folder.id,
                        row={
                            "workspace_id": _workspace_id(workspaces, folder.workspace, name),
                            "parent_id": _folder_id(
                                paths, folder.workspace, folder.parent_path, f"folder {name}"
                            ),
                            "kind": folder.kind.value,
                            "name": folder.name,
                            "description": folder.description,
                            "channel_id": channel_id,
                            "key": folder.key,
                        },
                        name=name,
                    )
                )
            self.upsert(schema.folder, Kind.FOLDERS, pending)
            index = load_folder_index(self.connection)
        return index

    def tokens(self, written: Definitions, index: FolderIndex) -> None:
        table = schema.my_token
        paths = index.by_path()
        stored = {
            (row.folder_id, row.name_key): row.id
            for row in self.connection.execute(
                select(table.c.id, table.c.folder_id, table.c.name_key)
            )
        }
        pending = []
        for token in written.tokens:
            if token.workspace is None:
                folder_id, where = None, "account"
            else:
                folder = token.folder or ()
                where = "/".join((token.workspace, *folder))
                folder_id = _folder_id(paths, token.workspace, folder, f"My Token {token.name!r}")
            name_key = _token_key(token.name)
            pending.append(
                _Pending(
                    id=stored.get((folder_id, name_key)),
                    row={
                        "folder_id": folder_id,
                        "name": token.name,
                        "name_key": name_key,
                        "type": token.type.value,
                        "value": token.value,
                    },
                    name=f"{{{{my.{token.name}}}}} @ {where}",
                )
            )
        self.upsert(table, Kind.TOKENS, pending)

    def assets(self, written: Definitions, index: FolderIndex) -> None:
        paths = index.by_path()
        workspaces = _workspace_ids(index)

        def place(kind: str, item: Any) -> dict[str, Any]:
            where = f"{kind} {item.name!r}"
            return {
                "workspace_id": _workspace_id(workspaces, item.workspace, where),
                "folder_id": _folder_id(paths, item.workspace, item.folder, where),
                "name": item.name,
                "description": getattr(item, "description", ""),
                "key": item.key,
            }

        def pending(
            kind: str, items: Sequence[Any], extra: Callable[[Any], dict[str, Any]]
        ) -> list[_Pending]:
            return [
                _Pending(id=i.id, row={**place(kind, i), **extra(i)}, name=i.name) for i in items
            ]

        self.upsert(
            schema.static_list,
            Kind.STATIC_LISTS,
            pending("static list", written.static_lists, lambda _: {}),
        )
        self.upsert(
            schema.smart_list,
            Kind.SMART_LISTS,
            pending(
                "smart list",
                written.smart_lists,
                lambda s: {"rules": codec.rules_to_json(s.rules)},
            ),
        )
        self.upsert(
            schema.email,
            Kind.EMAILS,
            pending("email", written.emails, lambda e: {"definition": codec.email_to_json(e)}),
        )
        campaign_ids = self.upsert(
            schema.campaign,
            Kind.CAMPAIGNS,
            pending(
                "campaign",
                written.campaigns,
                lambda c: {
                    "executable": c.executable,
                    "active": c.active,
                    "smart_list": codec.rules_to_json(c.smart_list),
                    "flow": codec.flow_to_json(c.flow),
                    "schedule": codec.schedule_to_json(c.schedule),
                },
            ),
        )
        # A campaign created active is activated now (CMP-23); stored ones keep theirs.
        created_active = [
            new_id
            for c, new_id in zip(written.campaigns, campaign_ids, strict=True)
            if c.id is None and c.active
        ]
        if created_active:
            self.connection.execute(
                update(schema.campaign)
                .where(schema.campaign.c.id.in_(created_active))
                .values(activated_at=self.now)
            )


def _differs(wanted: dict[str, Any], stored: dict[str, Any]) -> bool:
    return any(stored.get(column) != value for column, value in wanted.items())


_token_key = fold  # the my_token.name_key column: names compare like everywhere else (GEN-7)


def _workspace_ids(index: FolderIndex) -> dict[str, int]:
    return {fold_name(name): ws_id for ws_id, name in index.workspace_names.items()}


def _workspace_id(workspaces: dict[str, int], name: str, where: str) -> int:
    workspace_id = workspaces.get(fold_name(name))
    if workspace_id is None:
        raise UserError(
            f"{where} is in workspace {name!r}, which does not exist; define it under workspaces"
        )
    return workspace_id


def _folder_id(
    paths: dict[tuple[str, tuple[str, ...]], int], workspace: str, path: FolderPath, where: str
) -> int:
    folder_id = paths.get((fold_name(workspace), tuple(fold_name(p) for p in path)))
    if folder_id is None:
        described = "/".join((workspace, *path))
        raise UserError(f"{where} is in folder {described}, which does not exist; define it")
    return folder_id
