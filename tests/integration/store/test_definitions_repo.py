"""Storing definitions: one transaction, idempotent, stable ids (VAL-3, EXE-1, GEN-3)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from kampanj.clock import FixedClock
from kampanj.errors import UserError
from kampanj.model.account import Definitions
from kampanj.model.activities import ActivityTypeDef, AttributeDef
from kampanj.model.assets import Email, HttpMethod, ResponseMapping, TokenEncoding, Webhook
from kampanj.model.campaigns import (
    Campaign,
    Choice,
    QualificationRule,
    QualificationRuleType,
    Recurrence,
    RecurrenceInterval,
    Schedule,
    Step,
    StepType,
)
from kampanj.model.fields import FieldDef, FieldType
from kampanj.model.settings import AccountSettings
from kampanj.model.smartlists import (
    Condition,
    FilterMatchType,
    Rule,
    SmartList,
    SmartListRules,
    StaticList,
)
from kampanj.model.tokens import MyToken, MyTokenType
from kampanj.model.tree import Channel, Folder, FolderKind, ProgramStatus, Workspace
from kampanj.store import schema
from kampanj.store.database import Database
from kampanj.store.definitions_repo import (
    Kind,
    Outcome,
    apply_definitions,
    merge,
    read_definitions,
)
from kampanj.store.repositories import writing
from testsupport import dump_tables

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def sample() -> Definitions:
    """A small but complete account: every kind of definition at least once."""
    return Definitions(
        settings=AccountSettings(timezone="Europe/Stockholm", comm_limit_per_day=3),
        fields=(
            FieldDef(
                name="behaviorScore",
                display_name="Behavior Score",
                data_type=FieldType.SCORE,
                column="",
                is_custom=True,
            ),
        ),
        activity_types=(
            ActivityTypeDef(
                id=100_001,
                name="Attend Meetup",
                primary=AttributeDef(name="Meetup ID", data_type=FieldType.INTEGER),
                attributes=(AttributeDef(name="City"),),
                trigger_name="Attends Meetup",
                filter_name="Attended Meetup",
                retention_days=90,
            ),
        ),
        channels=(
            Channel(
                name="Webinar",
                statuses=(
                    ProgramStatus(name="Invited"),
                    ProgramStatus(name="Attended", success=True),
                ),
            ),
        ),
        webhooks=(
            Webhook(
                name="CRM sync",
                url="https://crm.example.com/{{lead.Email Address}}",
                request_type=HttpMethod.PUT,
                request_token_encoding=TokenEncoding.JSON,
                custom_headers=(("X-Token", "{{my.Secret}}"),),
                response_mappings=(ResponseMapping(response_attribute="score", field="leadScore"),),
                key="crm",
            ),
        ),
        workspaces=(Workspace(name="Default"), Workspace(name="Partners", description="EMEA")),
        folders=(
            Folder(workspace="Default", path=("Marketing",), key="marketing"),
            Folder(
                workspace="Default",
                path=("Marketing", "Webinar A"),
                kind=FolderKind.PROGRAM,
                channel="Webinar",
            ),
            Folder(workspace="Partners", path=("Shared",)),
        ),
        tokens=(
            MyToken(name="Score", type=MyTokenType.SCORE, value="+5"),
            MyToken(
                name="Event Name",
                type=MyTokenType.TEXT,
                value="Summit",
                workspace="Default",
                folder=("Marketing", "Webinar A"),
            ),
            MyToken(
                name="Region", type=MyTokenType.TEXT, value="EU", workspace="Partners", folder=()
            ),
        ),
        static_lists=(StaticList(workspace="Default", folder=("Marketing",), name="VIPs"),),
        smart_lists=(
            SmartList(
                workspace="Default",
                folder=("Marketing",),
                name="Engaged",
                rules=SmartListRules(
                    filters=(
                        Rule(name="Lead Score", operator="at least", values=(10,)),
                        Rule(
                            name="Visited Web Page",
                            primary=Condition(name="primary", operator="is", values=("pricing",)),
                            constraints=(
                                Condition(
                                    name="Min. Number of Times", operator="at least", values=(2,)
                                ),
                            ),
                        ),
                    ),
                    match_type=FilterMatchType.ADVANCED,
                    advanced_logic="1 or 2",
                ),
            ),
        ),
        emails=(
            Email(
                workspace="Default",
                folder=("Marketing", "Webinar A"),
                name="Invite",
                subject="Join {{my.Event Name}}",
                html="<p>Hi {{lead.First Name}}</p>",
                key="invite",
            ),
        ),
        campaigns=(
            Campaign(
                workspace="Default",
                folder=("Marketing", "Webinar A"),
                name="Score Engagement",
                executable=True,
                flow=(
                    Step(
                        id="s1",
                        type=StepType.CHANGE_SCORE,
                        params={"field": "Behavior Score", "change": "{{my.Score}}"},
                    ),
                ),
                schedule=Schedule(qualification=QualificationRule(type=QualificationRuleType.ANY)),
                key="score",
            ),
            Campaign(
                workspace="Default",
                folder=("Marketing", "Webinar A"),
                name="Invite Engaged",
                smart_list=SmartListRules(
                    filters=(Rule(name="Member of Smart List", operator="in", values=("Engaged",)),)
                ),
                flow=(
                    Step(
                        id="s1",
                        type=StepType.SEND_EMAIL,
                        params={"email": "Invite"},
                        choices=(
                            Choice(
                                condition=Rule(name="Unsubscribed", operator="is", values=(True,)),
                                do_nothing=True,
                            ),
                        ),
                    ),
                    Step(
                        id="s2",
                        type=StepType.EXECUTE_CAMPAIGN,
                        params={"campaign": "Score Engagement", "useParentContext": True},
                    ),
                    Step(
                        id="s3",
                        type=StepType.ADD_TO_LIST,
                        params={"lists": ("VIPs",), "weight": 1.5},
                    ),
                ),
                schedule=Schedule(
                    recurrence=Recurrence(
                        start_at=T0, interval_type=RecurrenceInterval.DAILY, weekday_only=True
                    )
                ),
            ),
        ),
    )


def apply(database: Database, definitions: Definitions, at: datetime = T0) -> Any:
    with database.begin() as connection:
        return apply_definitions(connection, definitions, clock=FixedClock(at))


def read(database: Database) -> Definitions:
    with database.read() as connection:
        return read_definitions(connection)


def _without_ids(definitions: Definitions) -> Definitions:
    def strip(items: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(replace(i, id=None) if hasattr(i, "id") else i for i in items)

    return replace(
        definitions,
        channels=strip(definitions.channels),
        webhooks=strip(definitions.webhooks),
        workspaces=strip(definitions.workspaces),
        folders=strip(definitions.folders),
        static_lists=strip(definitions.static_lists),
        smart_lists=strip(definitions.smart_lists),
        emails=strip(definitions.emails),
        campaigns=strip(definitions.campaigns),
    )


def test_write_then_read_round_trips_every_kind(database: Database) -> None:
    """Everything written reads back equal, now with ids (GEN-3)."""
    report = apply(database, sample())
    stored = read(database)
    incoming = sample()

    assert stored.settings == incoming.settings
    assert [(f.name, f.data_type, f.column) for f in stored.fields] == [
        ("behaviorScore", FieldType.SCORE, "c_behavior_score")
    ]
    assert stored.activity_types == tuple(
        replace(t, is_custom=True) for t in incoming.activity_types
    )
    without_ids = _without_ids(stored)
    assert without_ids.channels == incoming.channels
    assert without_ids.webhooks == incoming.webhooks
    assert {w.name for w in stored.workspaces} == {"Default", "Partners"}
    # Folders are written parents first, so ids follow depth rather than input order.
    assert set(without_ids.folders) == set(incoming.folders)
    assert set(stored.tokens) == set(incoming.tokens)
    assert without_ids.static_lists == incoming.static_lists
    assert without_ids.smart_lists == incoming.smart_lists
    assert without_ids.emails == incoming.emails
    assert without_ids.campaigns == incoming.campaigns
    assert all(c.id is not None for c in stored.campaigns)
    assert report.names(Outcome.CREATED, Kind.CAMPAIGNS) == ["Score Engagement", "Invite Engaged"]
    assert report.names(Outcome.UNCHANGED, Kind.WORKSPACES) == ["Default"]
    assert report.names(Outcome.CREATED, Kind.WORKSPACES) == ["Partners"]


def test_ids_ascend_in_input_order(database: Database) -> None:
    """GEN-3: ids are allocated in ascending order per kind."""
    apply(database, sample())
    ids = [c.id for c in read(database).campaigns]
    assert ids == sorted(ids) and len(set(ids)) == 2


def test_reapplying_the_same_input_changes_nothing(database: Database) -> None:
    """A second apply is a no-op: no UPDATE, updated_at unchanged, report says unchanged."""
    apply(database, sample())
    before = dump_tables(database.url)
    report = apply(database, sample(), at=T0 + timedelta(hours=1))

    assert dump_tables(database.url) == before
    assert not report.changed
    unchanged = report.count(Outcome.UNCHANGED)
    expected = sum(
        len(getattr(sample(), name))
        for name in (
            "fields",
            "activity_types",
            "channels",
            "webhooks",
            "workspaces",
            "folders",
            "tokens",
            "static_lists",
            "smart_lists",
            "emails",
            "campaigns",
        )
    ) + len(report.names(Outcome.UNCHANGED, Kind.SETTINGS))
    assert unchanged == expected
    assert report.names(Outcome.UNCHANGED, Kind.CAMPAIGNS) == ["Score Engagement", "Invite Engaged"]


def test_a_changed_object_is_updated_and_only_it(database: Database) -> None:
    apply(database, sample())
    first = read(database)
    changed = sample()
    changed = replace(
        changed, emails=(replace(changed.emails[0], subject="Last call for {{my.Event Name}}"),)
    )
    report = apply(database, changed, at=T0 + timedelta(hours=1))

    assert report.names(Outcome.UPDATED, Kind.EMAILS) == ["Invite"]
    assert report.count(Outcome.UPDATED) == 1
    with database.read() as connection:
        stamps = dict(
            connection.execute(sa.select(schema.email.c.id, schema.email.c.updated_at)).all()
        )
        campaign_stamps = set(connection.execute(sa.select(schema.campaign.c.updated_at)).scalars())
    assert stamps == {first.emails[0].id: T0 + timedelta(hours=1)}
    assert campaign_stamps == {T0}
    assert read(database).emails[0].subject == "Last call for {{my.Event Name}}"


def test_rename_with_the_same_key_keeps_the_id(database: Database) -> None:
    """A renamed object with the same key is the same object: same id, new name."""
    apply(database, sample())
    before = read(database)
    renamed = sample()
    renamed = replace(
        renamed,
        folders=(
            replace(renamed.folders[0], path=("Demand",)),
            replace(renamed.folders[1], path=("Demand", "Webinar A")),
            renamed.folders[2],
        ),
        tokens=(
            renamed.tokens[0],
            replace(renamed.tokens[1], folder=("Demand", "Webinar A")),
            renamed.tokens[2],
        ),
        static_lists=(replace(renamed.static_lists[0], folder=("Demand",)),),
        smart_lists=(replace(renamed.smart_lists[0], folder=("Demand",)),),
        emails=(replace(renamed.emails[0], name="Invitation", folder=("Demand", "Webinar A")),),
        campaigns=tuple(replace(c, folder=("Demand", "Webinar A")) for c in renamed.campaigns),
    )
    report = apply(database, renamed, at=T0 + timedelta(hours=1))
    after = read(database)

    assert [(f.id, f.path) for f in after.folders if f.key == "marketing"] == [
        (before.folders[0].id, ("Demand",))
    ]
    assert len(after.folders) == len(before.folders)
    assert [(e.id, e.name) for e in after.emails] == [(before.emails[0].id, "Invitation")]
    assert report.names(Outcome.UPDATED, Kind.FOLDERS) == ["Default/Demand"]
    assert report.names(Outcome.UPDATED, Kind.EMAILS) == ["Invitation"]
    # The program below the renamed folder moved with it and kept its id.
    program = next(f for f in after.folders if f.kind is FolderKind.PROGRAM)
    assert program.path == ("Demand", "Webinar A")
    assert program.id == next(f.id for f in before.folders if f.kind is FolderKind.PROGRAM)


def test_rename_of_an_unmentioned_parent_carries_children_along(database: Database) -> None:
    """Renaming only the keyed folder moves what is stored below it (nothing deleted)."""
    apply(database, sample())
    before = read(database)
    only_folder = Definitions(
        folders=(Folder(workspace="Default", path=("Demand",), key="marketing"),)
    )
    with database.read() as connection:
        merged = merge(read_definitions(connection), only_folder)
    assert {c.folder for c in merged.campaigns} == {("Demand", "Webinar A")}

    apply(database, only_folder)
    after = read(database)
    assert {c.folder for c in after.campaigns} == {("Demand", "Webinar A")}
    assert [c.id for c in after.campaigns] == [c.id for c in before.campaigns]


def test_rename_without_key_creates_a_new_object(database: Database) -> None:
    apply(database, sample())
    before = read(database)
    renamed = replace(
        sample(),
        static_lists=(replace(sample().static_lists[0], name="Very Important People"),),
    )
    report = apply(database, renamed)
    after = read(database)

    assert report.names(Outcome.CREATED, Kind.STATIC_LISTS) == ["Very Important People"]
    assert {s.name for s in after.static_lists} == {"VIPs", "Very Important People"}
    old = next(s for s in after.static_lists if s.name == "VIPs")
    assert old.id == before.static_lists[0].id


def test_name_matching_is_case_insensitive_and_keeps_the_stored_key(database: Database) -> None:
    apply(database, sample())
    before = read(database)
    shouting = replace(sample(), emails=(replace(sample().emails[0], name="INVITE", key=None),))
    report = apply(database, shouting)
    after = read(database)
    assert [(e.id, e.name, e.key) for e in after.emails] == [
        (before.emails[0].id, "INVITE", "invite")
    ]
    assert report.names(Outcome.UPDATED, Kind.EMAILS) == ["INVITE"]


def test_custom_field_becomes_a_column(database: Database) -> None:
    apply(database, sample())
    with database.read() as connection:
        columns = {c["name"] for c in sa.inspect(connection).get_columns("person")}
    assert "c_behavior_score" in columns


def test_changing_a_field_type_is_refused_and_nothing_is_written(database: Database) -> None:
    apply(database, sample())
    before = dump_tables(database.url)
    retyped = replace(
        sample(),
        fields=(replace(sample().fields[0], data_type=FieldType.STRING),),
        emails=(replace(sample().emails[0], subject="changed"),),
    )
    with pytest.raises(UserError, match=r"field 'behaviorScore' is stored as score"):
        apply(database, retyped)
    assert dump_tables(database.url) == before


def test_changing_executable_is_refused(database: Database) -> None:
    """EXE-1: the executable flag is fixed at creation."""
    apply(database, sample())
    before = dump_tables(database.url)
    flipped = replace(
        sample(),
        campaigns=(replace(sample().campaigns[0], executable=False), sample().campaigns[1]),
    )
    with pytest.raises(UserError, match=r"'Score Engagement' is executable.*EXE-1"):
        apply(database, flipped)
    assert dump_tables(database.url) == before


def test_a_failure_mid_apply_leaves_the_database_exactly_as_before(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """All or nothing (VAL-3): columns, folders and rows written before the failure vanish."""
    apply(database, replace(sample(), fields=(), campaigns=()))
    before = dump_tables(database.url)

    def explode(self: Any, written: Definitions, index: Any) -> None:
        raise RuntimeError("injected failure after fields, folders and tokens were written")

    monkeypatch.setattr(writing._Writer, "assets", explode)
    changed = replace(sample(), workspaces=(*sample().workspaces, Workspace(name="Labs")))
    with pytest.raises(RuntimeError, match="injected"):
        apply(database, changed, at=T0 + timedelta(days=1))
    assert dump_tables(database.url) == before


def test_unknown_folder_of_an_asset_is_a_clear_error(database: Database) -> None:
    lost = Definitions(
        static_lists=(StaticList(workspace="Default", folder=("Nowhere",), name="Lost"),)
    )
    before = dump_tables(database.url)
    with pytest.raises(UserError, match=r"static list 'Lost' is in folder Default/Nowhere"):
        apply(database, lost)
    assert dump_tables(database.url) == before


def test_missing_parent_folders_are_created_parents_first(database: Database) -> None:
    deep = Definitions(folders=(Folder(workspace="Default", path=("A", "B", "C")),))
    report = apply(database, deep)
    assert report.names(Outcome.CREATED, Kind.FOLDERS) == [
        "Default/A",
        "Default/A/B",
        "Default/A/B/C",
    ]
    assert [f.path for f in read(database).folders] == [("A",), ("A", "B"), ("A", "B", "C")]


def test_moving_a_keyed_campaign_to_another_workspace_is_refused(database: Database) -> None:
    """WS-3: assets never move between workspaces."""
    apply(database, sample())
    moved = replace(
        sample(),
        campaigns=(
            replace(sample().campaigns[0], workspace="Partners", folder=("Shared",)),
            sample().campaigns[1],
        ),
    )
    with pytest.raises(UserError, match=r"WS-3"):
        apply(database, moved)


def test_activation_is_not_changed_by_apply(database: Database) -> None:
    """CMP-12/13: activation is runtime state; re-applying keeps it."""
    apply(database, sample())
    with database.begin() as connection:
        connection.execute(sa.update(schema.campaign).values(active=True))
    report = apply(database, sample())
    assert not report.changed
    assert all(c.active for c in read(database).campaigns)


def test_moving_a_list_to_another_folder_keeps_it(database: Database) -> None:
    """Lists are referenced by name within the workspace, so a move is not a new list."""
    apply(database, sample())
    before = read(database)
    moved = replace(sample(), static_lists=(replace(sample().static_lists[0], folder=()),))
    report = apply(database, moved)
    after = read(database)
    assert [(s.id, s.folder) for s in after.static_lists] == [(before.static_lists[0].id, ())]
    assert report.names(Outcome.UPDATED, Kind.STATIC_LISTS) == ["VIPs"]


def test_a_folder_written_only_as_a_container_keeps_its_attributes(database: Database) -> None:
    """A later file may name a program just to add a campaign to it."""
    apply(database, sample())
    container = Definitions(
        folders=(
            Folder(workspace="Default", path=("Marketing",)),
            Folder(workspace="Default", path=("Marketing", "Webinar A"), kind=FolderKind.PROGRAM),
        ),
        static_lists=(
            StaticList(workspace="Default", folder=("Marketing", "Webinar A"), name="New"),
        ),
    )
    report = apply(database, container)
    program = next(f for f in read(database).folders if f.kind is FolderKind.PROGRAM)
    assert program.channel == "Webinar"
    assert report.names(Outcome.UNCHANGED, Kind.FOLDERS) == [
        "Default/Marketing",
        "Default/Marketing/Webinar A",
    ]
    assert report.names(Outcome.CREATED, Kind.STATIC_LISTS) == ["New"]


def test_a_my_token_renamed_only_in_case_and_spacing_is_the_same_token(
    database: Database,
) -> None:
    """GEN-7/TOK-10: token names fold case and whitespace runs, in storage as in merging."""
    global_token = MyToken(name="Event Date", type=MyTokenType.DATE, value="2026-05-01")
    apply(database, Definitions(tokens=(global_token,)))
    respelled = replace(global_token, name="event   DATE", value="2026-06-01")
    apply(database, Definitions(tokens=(respelled,)))
    stored = [t for t in read(database).tokens if t.workspace is None]
    assert [(t.name, t.value) for t in stored] == [("event   DATE", "2026-06-01")]
