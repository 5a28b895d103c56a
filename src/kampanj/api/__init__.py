"""The Marketo-compatible REST API (SPEC §15): an edge over the same core the CLI uses."""

from __future__ import annotations

from kampanj.api.app import create_app
from kampanj.api.settings import ApiSettings

__all__ = ["ApiSettings", "create_app"]
