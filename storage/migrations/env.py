"""Alembic environment: the engine comes from storage.db (no alembic.ini needed)."""

from alembic import context
from sqlmodel import SQLModel

import storage.tables  # noqa: F401  (registers every table)

target_metadata = SQLModel.metadata
config = context.config


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:  # alembic run by hand: the database the environment names
        import os

        from storage.db import make_engine

        engine = make_engine(os.environ["DATABASE_URL"])
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch mode rebuilds a table (copy, DROP, rename): with foreign keys on, the
            # DROP of a referenced table (person) would delete or refuse its referrers.
            # Off for the migration (a PRAGMA that works only outside a transaction, so on
            # the driver before SQLAlchemy begins one), checked afterwards, on again.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        try:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=sqlite,  # ALTER TABLE on SQLite
            )
            with context.begin_transaction():
                context.run_migrations()
                if sqlite and (broken := connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()):
                    raise RuntimeError(f"the migration broke {len(broken)} foreign key(s), e.g. {broken[0]}")
            connection.commit()
        finally:
            if sqlite:
                connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")


run_migrations_online()
