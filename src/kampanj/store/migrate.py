"""Running the Alembic migrations shipped inside the package."""

from __future__ import annotations

from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config

if TYPE_CHECKING:
    from kampanj.store.database import Database

SCRIPT_LOCATION = "kampanj.store:migrations"


def alembic_config(database: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.set_main_option("sqlalchemy.url", database.url.replace("%", "%%"))
    return config


def upgrade_to_head(database: Database) -> None:
    config = alembic_config(database)
    with database.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
