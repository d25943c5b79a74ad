"""Shared fixtures: database backends (SQLite and PostgreSQL) and a small campaign.

Tests that take the ``engine`` fixture run once per backend. PostgreSQL is the local
server at 127.0.0.1:5432, database ``test`` (override with MINPING_TEST_PG_URL); every
test gets its own schema, dropped afterwards, so no run depends on a previous one.
Set MINPING_TEST_PG=0 to deselect the PostgreSQL variants (they are never skipped
silently: if the server is down they fail).
"""

from __future__ import annotations

import os
import secrets
import pytest
from sqlalchemy import text

from flows.campaign import Campaign
from storage.db import make_engine, migrate
from tests.factories import campaign_data

PG_URL = os.environ.get("MINPING_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite"] + (["postgres"] if os.environ.get("MINPING_TEST_PG", "1") != "0" else [])


@pytest.fixture(params=BACKENDS)
def engine(request, tmp_path):
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'test.db'}")
        migrate(eng)
        yield eng
        eng.dispose()
        return
    schema = "t_" + secrets.token_hex(6)
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    eng = make_engine(PG_URL, schema=schema)
    try:
        migrate(eng)
        yield eng
    finally:
        eng.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def campaign() -> Campaign:
    return Campaign.model_validate(campaign_data())
