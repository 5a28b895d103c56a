"""Fixtures of the REST API tests (see apisupport for the world they build)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from apisupport import START, Api, apply_world
from fastapi.testclient import TestClient

from kampanj.api import ApiSettings, create_app
from kampanj.clock import FixedClock
from kampanj.store.database import Database


@pytest.fixture
def api_settings() -> ApiSettings:
    return ApiSettings()


@pytest.fixture
def api(database: Database, tmp_path: Path, api_settings: ApiSettings) -> Iterator[Api]:
    """A migrated database with the test world, and a client over it."""
    database.migrate()
    clock = FixedClock(START)
    apply_world(database, tmp_path, clock)
    app = create_app(database, clock, api_settings)
    with TestClient(app) as client:
        yield Api(database, clock, client)
