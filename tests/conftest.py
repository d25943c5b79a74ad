"""Shared fixtures: database backends (SQLite and PostgreSQL) and a small campaign.

Tests that take the ``engine`` fixture run once per backend. PostgreSQL is the local
server at 127.0.0.1:5432, database ``test`` (override with MINPING_TEST_PG_URL); every
test gets a database of its own, made from a template migrated once per run and dropped
afterwards, so no run depends on a previous one. SQLite tests get a copy of a migrated
file.
Set MINPING_TEST_PG=0 to deselect the PostgreSQL variants (they are never skipped
silently: if the server is down they fail).
"""

from __future__ import annotations

import os
import secrets
import shutil

import pytest
from sqlalchemy import text

from flows.campaign import Campaign
from storage.db import make_engine, migrate
from tests.factories import campaign_data

pytest_plugins = ["tests.browser", "tests.cli_env"]  # ``browser``, ``page`` (headless Chromium); ``cli``

PG_URL = os.environ.get("MINPING_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite"] + (["postgres"] if os.environ.get("MINPING_TEST_PG", "1") != "0" else [])


def _pg_url(database: str) -> str:
    return PG_URL.rsplit("/", 1)[0] + "/" + database


def _pg_admin():
    return make_engine(PG_URL).execution_options(isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """A database migrated once per run; each test gets a copy of the file (a migration
    per test cost more than most tests)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    eng = make_engine(f"sqlite:///{path}")
    migrate(eng)
    raw = eng.raw_connection()
    raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the main file
    raw.close()
    eng.dispose()
    return path


@pytest.fixture(scope="session")
def pg_template():
    """A PostgreSQL database migrated once per run (one per test process: helpers and CI
    may run side by side); each test gets its own database made from it."""
    if "postgres" not in BACKENDS:
        yield None
        return
    name = f"minping_tpl_{os.getpid()}_{secrets.token_hex(3)}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    eng = make_engine(_pg_url(name))
    migrate(eng)
    eng.dispose()  # a template may have no one connected while it is copied
    try:
        yield name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def engine(request, tmp_path):
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        eng = make_engine(f"sqlite:///{path}")
        yield eng
        eng.dispose()
        return
    template = request.getfixturevalue("pg_template")
    name = "t_" + secrets.token_hex(6)
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {template}"))
    eng = make_engine(_pg_url(name))
    try:
        yield eng
    finally:
        eng.dispose()
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture
def campaign() -> Campaign:
    return Campaign.model_validate(campaign_data())


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Figures a test measured (e.g. the scrubber's precision and recall), shown at the end."""
    from tests.flows.test_scrub import SUMMARY

    for line in config.stash.get(SUMMARY, []):
        terminalreporter.write_line(line)
