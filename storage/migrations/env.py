"""Alembic environment: the engine comes from storage.db (no alembic.ini needed)."""

from alembic import context
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables)

target_metadata = SQLModel.metadata
config = context.config


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        from bot.settings import get_settings
        from storage.db import make_engine

        engine = make_engine(get_settings().database_url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",  # ALTER TABLE on SQLite
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
