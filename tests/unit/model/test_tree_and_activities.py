"""Channels, folders and the activity-type catalogue (ACT-3)."""

from __future__ import annotations

from kampanj.model.activities import (
    STANDARD_ACTIVITY_TYPES,
    ActivityTypeDef,
    ActivityTypeRegistry,
    AttributeDef,
    StandardActivity,
)
from kampanj.model.campaigns import Campaign, CampaignType
from kampanj.model.smartlists import Rule, SmartListRules
from kampanj.model.tree import Channel, Folder, FolderKind, ProgramStatus


def test_channel_rank_is_position_case_insensitive() -> None:
    channel = Channel(
        name="Webinar",
        statuses=(
            ProgramStatus(name="Invited"),
            ProgramStatus(name="Registered"),
            ProgramStatus(name="Attended", success=True),
        ),
    )
    assert channel.rank("registered") == 1
    assert channel.rank("Attended") == 2
    assert channel.rank("No Show") is None


def test_folder_name_and_parent() -> None:
    program = Folder(workspace="Default", path=("Marketing", "Webinar A"), kind=FolderKind.PROGRAM)
    assert program.name == "Webinar A"
    assert program.parent_path == ("Marketing",)
    assert program.is_program
    assert Folder(workspace="Default", path=()).name == "Default"


def test_catalogue_ids_are_unique_and_match_act_3() -> None:
    """ACT-3: ids and names of the standard catalogue."""
    ids = [t.id for t in STANDARD_ACTIVITY_TYPES]
    assert len(ids) == len(set(ids))
    assert {int(member) for member in StandardActivity} == set(ids)
    registry = ActivityTypeRegistry.standard()
    execute = registry.by_id(901)
    assert execute is not None and execute.trigger_name is None  # EXE-22: no trigger
    assert registry.resolve("visits web page") is registry.by_id(1)
    assert registry.resolve("Visited Web Page") is registry.by_id(1)
    assert registry.resolve("22") is registry.by_id(22)
    assert registry.resolve("Not a type") is None


def test_custom_types_extend_the_registry() -> None:
    custom = ActivityTypeDef(
        id=100_001,
        name="Attend Event",
        primary=AttributeDef(name="Event Name"),
        trigger_name="Attends Event",
        filter_name="Attended Event",
        is_custom=True,
    )
    registry = ActivityTypeRegistry.standard().with_types([custom])
    assert registry.by_trigger("attends event") is custom
    assert custom.attribute("event name") == AttributeDef(name="Event Name")


def test_campaign_type_is_derived() -> None:
    """CMP-2: trigger if any trigger, else batch if any filter, else default."""
    trigger = Rule(name="Visits Web Page")
    flt = Rule(name="Lead Score", operator="at least", values=(10,))
    base = {"workspace": "Default", "folder": (), "name": "C"}
    assert Campaign(**base).type is CampaignType.DEFAULT  # type: ignore[arg-type]
    assert (
        Campaign(**base, smart_list=SmartListRules(filters=(flt,))).type  # type: ignore[arg-type]
        is CampaignType.BATCH
    )
    assert (
        Campaign(  # type: ignore[arg-type]
            **base, smart_list=SmartListRules(triggers=(trigger,), filters=(flt,))
        ).type
        is CampaignType.TRIGGER
    )
