"""A complete set of definitions: what `kampanj apply` writes and `kampanj lint` checks."""

from __future__ import annotations

from dataclasses import dataclass

from kampanj.model.activities import ActivityTypeDef
from kampanj.model.assets import Email, Webhook
from kampanj.model.campaigns import Campaign
from kampanj.model.fields import FieldDef
from kampanj.model.settings import AccountSettings
from kampanj.model.smartlists import SmartList, StaticList
from kampanj.model.tokens import MyToken
from kampanj.model.tree import Channel, Folder, Workspace


@dataclass(frozen=True, kw_only=True, slots=True)
class Definitions:
    """Account-level objects plus every workspace's assets."""

    settings: AccountSettings | None = None
    """Account settings; None leaves the stored ones alone."""
    fields: tuple[FieldDef, ...] = ()
    """Custom person fields."""
    activity_types: tuple[ActivityTypeDef, ...] = ()
    """Custom activity types."""
    channels: tuple[Channel, ...] = ()
    """Program channels."""
    webhooks: tuple[Webhook, ...] = ()
    """Webhooks."""
    workspaces: tuple[Workspace, ...] = ()
    """Workspaces."""
    folders: tuple[Folder, ...] = ()
    """Folders and programs of every workspace (root folders excluded)."""
    tokens: tuple[MyToken, ...] = ()
    """My Tokens: global and per folder or program."""
    static_lists: tuple[StaticList, ...] = ()
    """Static lists."""
    smart_lists: tuple[SmartList, ...] = ()
    """Stand-alone smart lists."""
    emails: tuple[Email, ...] = ()
    """Emails."""
    campaigns: tuple[Campaign, ...] = ()
    """Smart campaigns."""
