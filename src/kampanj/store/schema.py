"""The relational schema (DESIGN.md §4).

Tables that grow with people (``person``, ``activity``, memberships) are keyed so they can
later be distributed by ``person_id``. Definitions keep their rules and flows as JSON
documents; everything queried by the engine in bulk is a real column.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    literal_column,
)
from sqlalchemy.types import TypeEngine

from kampanj.model.fields import STANDARD_FIELDS, FieldDef, FieldType
from kampanj.store.types import JsonDocument, UtcDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)
# Tables use sqlite_autoincrement: ids are never reused (GEN-3), which SQLite only
# guarantees with AUTOINCREMENT.


def _id() -> Column[Any]:
    return Column("id", Integer, primary_key=True)


def _stamps() -> tuple[Column[Any], Column[Any]]:
    return (
        Column("created_at", UtcDateTime, nullable=False),
        Column("updated_at", UtcDateTime, nullable=False),
    )


setting = Table(
    "setting",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", JsonDocument, nullable=True),
)

workspace = Table(
    "workspace",
    metadata,
    _id(),
    Column("name", String(255), nullable=False, unique=True),
    Column("description", Text, nullable=False, default=""),
    *_stamps(),
    sqlite_autoincrement=True,
)

channel = Table(
    "channel",
    metadata,
    _id(),
    Column("name", String(255), nullable=False, unique=True),
    Column("statuses", JsonDocument, nullable=False),
    *_stamps(),
    sqlite_autoincrement=True,
)

folder = Table(
    "folder",
    metadata,
    _id(),
    Column("workspace_id", ForeignKey("workspace.id"), nullable=False),
    Column("parent_id", ForeignKey("folder.id"), nullable=True),
    Column("kind", String(16), nullable=False),
    Column("name", String(255), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("channel_id", ForeignKey("channel.id"), nullable=True),
    Column("key", String(255), nullable=True, unique=True),
    *_stamps(),
    Index("ix_folder_parent", "parent_id"),
    sqlite_autoincrement=True,
)

my_token = Table(
    "my_token",
    metadata,
    _id(),
    Column("folder_id", ForeignKey("folder.id"), nullable=True),
    Column("name", String(50), nullable=False),
    Column("name_key", String(50), nullable=False),
    Column("type", String(16), nullable=False),
    Column("value", Text, nullable=False),
    *_stamps(),
    UniqueConstraint("folder_id", "name_key", name="uq_my_token_folder_name"),
    sqlite_autoincrement=True,
)

field_def = Table(
    "field",
    metadata,
    _id(),
    Column("name", String(64), nullable=False, unique=True),
    Column("display_name", String(255), nullable=False),
    Column("data_type", String(16), nullable=False),
    Column("column_name", String(70), nullable=False, unique=True),
    Column("is_custom", Boolean, nullable=False),
    Column("is_company", Boolean, nullable=False, default=False),
    Column("html_encode", Boolean, nullable=False, default=True),
    Column("read_only", Boolean, nullable=False, default=False),
    Column("update_blocked", Boolean, nullable=False, default=False),
    sqlite_autoincrement=True,
)

activity_type = Table(
    "activity_type",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", String(255), nullable=False, unique=True),
    Column("description", Text, nullable=False, default=""),
    Column("primary_attribute", JsonDocument, nullable=True),
    Column("attributes", JsonDocument, nullable=False),
    Column("trigger_name", String(255), nullable=True),
    Column("filter_name", String(255), nullable=True),
    Column("retention_days", Integer, nullable=True),
    Column("is_custom", Boolean, nullable=False),
)

webhook = Table(
    "webhook",
    metadata,
    _id(),
    Column("name", String(255), nullable=False, unique=True),
    Column("definition", JsonDocument, nullable=False),
    Column("key", String(255), nullable=True, unique=True),
    *_stamps(),
    sqlite_autoincrement=True,
)


def _asset_table(name: str, *columns: Column[Any]) -> Table:
    """A workspace asset living in a folder or program."""
    return Table(
        name,
        metadata,
        _id(),
        Column("workspace_id", ForeignKey("workspace.id"), nullable=False),
        Column("folder_id", ForeignKey("folder.id"), nullable=False),
        Column("name", String(255), nullable=False),
        Column("description", Text, nullable=False, default=""),
        Column("key", String(255), nullable=True, unique=True),
        *columns,
        *_stamps(),
        sqlite_autoincrement=True,
    )


static_list = _asset_table("static_list")
smart_list = _asset_table("smart_list", Column("rules", JsonDocument, nullable=False))
email = _asset_table("email", Column("definition", JsonDocument, nullable=False))
campaign = _asset_table(
    "campaign",
    Column("executable", Boolean, nullable=False),
    Column("active", Boolean, nullable=False, default=False),
    Column("smart_list", JsonDocument, nullable=False),
    Column("flow", JsonDocument, nullable=False),
    Column("schedule", JsonDocument, nullable=False),
    # When it last became active (CMP-23; migration 0012); NULL when never activated by a
    # writer that sets it (auto cleanup then reads ``updated_at``, which is never earlier).
    Column("activated_at", UtcDateTime, nullable=True),
)


def sql_type(data_type: FieldType) -> TypeEngine[Any]:
    """Column type storing values of ``data_type``."""
    match data_type:
        case FieldType.STRING | FieldType.EMAIL:
            return String(255)
        case FieldType.TEXT:
            return Text()
        case FieldType.INTEGER:
            return BigInteger()
        case FieldType.FLOAT:
            return Float()
        case FieldType.CURRENCY:
            return Numeric(18, 4, asdecimal=False)
        case FieldType.SCORE:
            return Integer()
        case FieldType.BOOLEAN:
            return Boolean()
        case FieldType.DATE:
            return Date()
        case FieldType.DATETIME:
            return UtcDateTime()


def field_column(field: FieldDef) -> Column[Any]:
    """The ``person`` column of one field."""
    if field.name == "id":
        return Column("id", Integer, primary_key=True)
    nullable = field.name not in ("createdAt", "updatedAt")
    return Column(field.column, sql_type(field.data_type), nullable=nullable)


person = Table(
    "person",
    metadata,
    *(field_column(f) for f in STANDARD_FIELDS),
    sqlite_autoincrement=True,
)
# Upserts look people up by email case-insensitively.
Index("ix_person_email_lower", func.lower(person.c.email))

activity = Table(
    "activity",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("person_id", Integer, nullable=False),
    Column("activity_type_id", Integer, nullable=False),
    Column("activity_date", UtcDateTime, nullable=False),
    Column("campaign_id", Integer, nullable=True),
    Column("run_id", Integer, nullable=True),
    Column("primary_attribute_value_id", Integer, nullable=True),
    Column("primary_attribute_value", Text, nullable=True),
    Column("attributes", JsonDocument, nullable=False),
    # True for history loaded by `kampanj activities import`: offered to no trigger (ACT-6,
    # migration 0007). NULL for every other activity.
    Column("history", Boolean, nullable=True),
    # Per-person probes (explain, triggers, filters restricted to one person, correlated
    # counts such as "Opened Email at least 2 times in the past 60 days"). The date must
    # stay in the key: without it SQLite's planner answers a correlated count from the
    # (type, date) index below, scanning the whole window once per person (tried in
    # migration 0013's first version; test_activity_probe_plans).
    Index("ix_activity_person_type_date", "person_id", "activity_type_id", "activity_date"),
    # Set scans by type and time (activity filters over the whole database), answered
    # from the index alone. Migration 0003 creates it; on PostgreSQL it is
    # (activity_type_id, activity_date) INCLUDE (person_id), without the primary value;
    # migration 0009 adds PostgreSQL-only partial indexes that carry values up to 2000
    # bytes (ix_activity_type_date_value) and find longer ones (ix_activity_value_long),
    # see smartlist/compile_activities.value_split.
    Index(
        "ix_activity_type_date_cover",
        "activity_type_id",
        "activity_date",
        "person_id",
        "primary_attribute_value",
    ),
    sqlite_autoincrement=True,
)

list_member = Table(
    "list_member",
    metadata,
    Column("list_id", ForeignKey("static_list.id"), primary_key=True),
    Column("person_id", Integer, primary_key=True),
    Column("added_at", UtcDateTime, nullable=False),
    Index("ix_list_member_person", "person_id"),
)

program_member = Table(
    "program_member",
    metadata,
    Column("program_id", ForeignKey("folder.id"), primary_key=True),
    Column("person_id", Integer, primary_key=True),
    Column("status", String(255), nullable=False),
    Column("status_rank", Integer, nullable=False),
    Column("success", Boolean, nullable=False, default=False),
    Column("success_date", Date, nullable=True),
    Column("acquired_by", Boolean, nullable=False, default=False),
    Column("membership_date", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_program_member_person", "person_id"),
)

# Smart campaign membership (CMP-20): created at the first qualification, updated at each
# later one; read by the *Member of Smart Campaign* filter (SL-24).
campaign_member = Table(
    "campaign_member",
    metadata,
    Column("campaign_id", ForeignKey("campaign.id"), primary_key=True),
    Column("person_id", Integer, primary_key=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_campaign_member_person", "person_id"),
)

# Runs (DESIGN.md §2, GEN-6). A run's cohort is rows, so waiting people can be counted and
# resumed; every per-person table leads with ``run_id`` and carries ``person_id`` in its key
# so it can later be distributed by person.
run = Table(
    "run",
    metadata,
    _id(),
    Column("campaign_id", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("causation_depth", Integer, nullable=False, default=0),
    Column("trigger_activity_id", BigInteger, nullable=True),
    Column("token_overrides", JsonDocument, nullable=False),
    Column("cohort", Integer, nullable=True),
    Column("qualified", Integer, nullable=True),
    Column("chunk_size", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("started_at", UtcDateTime, nullable=True),
    Column("finished_at", UtcDateTime, nullable=True),
    Column("errors", JsonDocument, nullable=False),
    Column("warnings", JsonDocument, nullable=False),
    # The flow pinned at qualification (CMP-15): resumed chunks and waits read this one.
    Column("flow_snapshot", JsonDocument, nullable=True),
    Index("ix_run_campaign", "campaign_id"),
    sqlite_autoincrement=True,
)

# One row per flow instance (entry) of a run: the cohort. ``branch`` is scratch space for
# the step being executed (the choice each person takes, FLOW-9).
run_member = Table(
    "run_member",
    metadata,
    Column("run_id", Integer, primary_key=True),
    Column("person_id", Integer, primary_key=True),
    Column("entry_id", Integer, primary_key=True),
    Column("chunk", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("next_step", String(255), nullable=True),
    Column("wake_at", UtcDateTime, nullable=True),
    Column("branch", Integer, nullable=True),
    # Trigger and requested runs: the activity that put this person in the run and the
    # trigger it matched (TOK-8, migration 0007); NULL in batch runs.
    Column("trigger_activity_id", BigInteger, nullable=True),
    Column("trigger_name", String(255), nullable=True),
    Index("ix_run_member_chunk", "run_id", "chunk", "person_id"),
)

# Migration 0013: the two indexes that contain ``state`` hold only the members a lookup
# by state can want, so a batch run writes neither for its members' final state, and
# finished runs do not grow them. A query uses such an index only when its WHERE clause
# carries the index's condition term for term (SQLite matches terms, not implications),
# with the states as literals: hence these expressions, for indexes and queries alike.
# The strings are `engine.runs.MemberState` values (store does not import the engine).
RUN_MEMBER_WAITING = run_member.c.state == literal_column("'waiting'")
"""Parked by a Wait (the condition of ``ix_run_member_wake``)."""
RUN_MEMBER_LIVE = run_member.c.state.in_([literal_column("'active'"), literal_column("'waiting'")])
"""Still in the flow, active or waiting (the condition of ``ix_run_member_person``)."""

# Which Waits are due (engine/waits.py).
Index(
    "ix_run_member_wake",
    run_member.c.wake_at,
    sqlite_where=RUN_MEMBER_WAITING,
    postgresql_where=RUN_MEMBER_WAITING,
)
# Whether a person is still in another run (engine/handoff.py, migration 0011), whose
# instances Remove from Flow or Delete Person end.
Index(
    "ix_run_member_person",
    run_member.c.person_id,
    run_member.c.state,
    sqlite_where=RUN_MEMBER_LIVE,
    postgresql_where=RUN_MEMBER_LIVE,
)

# Per-step results of a run (GEN-6), keyed by call path (LEDG-1).
run_step = Table(
    "run_step",
    metadata,
    Column("run_id", Integer, primary_key=True),
    Column("call_path", String(255), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("executed", Integer, nullable=False, default=0),
    Column("skipped", Integer, nullable=False, default=0),
    Column("blocked", Integer, nullable=False, default=0),
    Column("errors", Integer, nullable=False, default=0),
    Column("choices", JsonDocument, nullable=False),
    Column("skip_reasons", JsonDocument, nullable=False),
    # Token provenance of this step's executions (PROV-2), when it renders tokens.
    Column("tokens", JsonDocument, nullable=True),
)

# The persons inside an inline Execute Campaign call at one depth of one chunk (EXE-8..11):
# scratch rows written and deleted by the transaction executing the calling step, so a
# committed database holds none. ``state`` is ``active`` (qualified, still in the child's
# flow) or the EXE-10 reason they were not qualified; ``branch`` as in ``run_member``.
call_member = Table(
    "call_member",
    metadata,
    Column("run_id", Integer, primary_key=True),
    Column("chunk", Integer, primary_key=True),
    Column("depth", Integer, primary_key=True),
    Column("person_id", Integer, primary_key=True),
    Column("entry_id", Integer, primary_key=True),
    Column("state", String(32), nullable=False),
    Column("branch", Integer, nullable=True),
)

# The LEDG-1 progress marker: committed with a step's effects for one chunk, it proves
# every ledger key of that chunk and step.
run_progress = Table(
    "run_progress",
    metadata,
    Column("run_id", Integer, primary_key=True),
    Column("chunk", Integer, primary_key=True),
    Column("call_path", String(255), primary_key=True),
    Column("committed_at", UtcDateTime, nullable=False),
)

# External effects (LEDG-3): one row per ledger key. ``state`` is ``intent`` until the
# transport answers, then ``sent``, ``failed`` or ``unknown`` (never retried).
outbox = Table(
    "outbox",
    metadata,
    _id(),
    Column("ledger_key", String(255), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("run_id", Integer, nullable=True),
    Column("person_id", Integer, nullable=True),
    Column("campaign_id", Integer, nullable=True),
    Column("call_path", String(255), nullable=True),
    Column("payload", JsonDocument, nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("message_id", String(255), nullable=True),
    Column("error", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("delivered_at", UtcDateTime, nullable=True),
    Index("ix_outbox_state", "state", "id"),
    Index("ix_outbox_run", "run_id", "person_id"),
    sqlite_autoincrement=True,
)

# Pending single runs (CMP-8 ``--at``) and started recurrence occurrences (CMP-9/10).
# ``occurrence_key`` is unique: one recurrence occurrence starts at most once.
scheduled_run = Table(
    "scheduled_run",
    metadata,
    _id(),
    Column("campaign_id", Integer, nullable=False),
    Column("run_at", UtcDateTime, nullable=False),
    Column("origin", String(16), nullable=False),
    Column("occurrence_key", String(255), nullable=True, unique=True),
    Column("token_overrides", JsonDocument, nullable=False),
    Column("status", String(16), nullable=False),
    Column("run_id", Integer, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_scheduled_run_due", "status", "run_at"),
    sqlite_autoincrement=True,
)

# REST API users (API-8): the secret is stored hashed and never returned; ``workspaces``
# lists the workspace names the user may reach (WS-5).
api_user = Table(
    "api_user",
    metadata,
    _id(),
    Column("name", String(255), nullable=False, unique=True),
    Column("email", String(255), nullable=False),
    Column("client_id", String(64), nullable=False, unique=True),
    Column("secret_hash", String(255), nullable=False),
    Column("role", String(32), nullable=False),
    Column("workspaces", JsonDocument, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    sqlite_autoincrement=True,
)

# Access tokens (API-2/3): valid until ``expires_at``; asking again before then returns the
# same token.
api_token = Table(
    "api_token",
    metadata,
    Column("token", String(128), primary_key=True),
    Column("api_user_id", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Index("ix_api_token_user", "api_user_id", "expires_at"),
)

# Idempotency-Key replays (LEDG-6, LIM-26; migration 0010): the first request's fingerprint
# and, once it succeeded, its response; no response yet = the call is in progress.
api_idempotency = Table(
    "api_idempotency",
    metadata,
    Column("api_user_id", Integer, primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("response", JsonDocument, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
)


# Quarter boundaries the tick has handled for setting ``autoCleanup`` (CMP-23; migration
# 0012): inserted in the transaction that deactivates the idle campaigns, so each boundary
# is cleaned up once; ``ran`` is false when the setting was off at that boundary.
campaign_cleanup = Table(
    "campaign_cleanup",
    metadata,
    Column("boundary", UtcDateTime, primary_key=True),
    Column("ran", Boolean, nullable=False),
    Column("deactivated", JsonDocument, nullable=False),
    Column("done_at", UtcDateTime, nullable=False),
)


# The trigger dispatcher's high-water mark (ACT-6, CMP-14; migration 0007): every activity
# with an id at most ``last_activity_id`` has been offered to triggers. One row (id 1),
# advanced in the transaction that enqueues the runs those activities fired.
trigger_cursor = Table(
    "trigger_cursor",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("last_activity_id", BigInteger, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# Every Request Campaign call from outside a flow (REQ-4, API-16..18; migration 0007).
campaign_request = Table(
    "campaign_request",
    metadata,
    _id(),
    Column("campaign_id", Integer, nullable=False),
    Column("source", String(32), nullable=False),
    Column("requested_by", String(255), nullable=True),
    Column("person_ids", JsonDocument, nullable=False),
    Column("tokens", JsonDocument, nullable=False),
    Column("accepted", Boolean, nullable=False),
    Column("reason", String(255), nullable=True),
    Column("run_id", Integer, nullable=True),
    Column("warnings", JsonDocument, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_campaign_request_campaign", "campaign_id", "id"),
    sqlite_autoincrement=True,
)

# What a worker is working on (``run:R:chunk:C``, ``tick``; migration 0008): the holder
# renews ``expires_at`` while working; an expired lease may be taken over (DESIGN.md §5).
lease = Table(
    "lease",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("owner", String(255), nullable=False),
    Column("acquired_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)

# Errors and warnings steps record for a run (GEN-6; migration 0008): rows, so chunks
# committing in parallel append without rewriting the run row.
run_issue = Table(
    "run_issue",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, nullable=False),
    Column("kind", String(8), nullable=False),
    Column("document", JsonDocument, nullable=False),
    Index("ix_run_issue_run", "run_id", "id"),
    sqlite_autoincrement=True,
)
