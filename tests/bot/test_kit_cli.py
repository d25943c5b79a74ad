"""``minping kit``: refused before close with a clear message (nothing written), written
after close, refused over a directory that holds other files; the kit checks out with
``verify_kit.py`` in a bare Python. SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.kit_setup import closed_with_kit_data

pytestmark = pytest.mark.postgres


def test_kit_from_the_command_line(cli):
    closed_with_kit_data(cli.engine, close=False)
    early = cli("kit", "test-2026", "--out", "kit")
    assert early.exit_code == 1 and "is not closed" in early.output and "minping close test-2026" in early.output
    assert not (cli.dir / "kit").exists()
    unknown = cli("kit", "nope-2026", "--out", "kit")
    assert unknown.exit_code == 1 and "nope-2026" in unknown.output
    assert cli("close", "test-2026", "--yes", "--force").exit_code == 0
    made = cli("kit", "test-2026", "--out", "kit")
    assert made.exit_code == 0, made.output
    assert "12 files" in made.output and "verify_kit.py" in made.output
    check = subprocess.run([sys.executable, "-I", "-S", "verify_kit.py"], cwd=cli.dir / "kit", capture_output=True,
                           text=True, timeout=60)
    assert check.returncode == 0 and "MATCH" in check.stdout, check.stdout
    again = cli("kit", "test-2026", "--out", "kit")
    assert again.exit_code == 1 and "not an empty directory" in again.output
    (cli.dir / "file").write_text("x")
    onto_a_file = cli("kit", "test-2026", "--out", "file")
    assert onto_a_file.exit_code == 1 and "not an empty directory" in onto_a_file.output
