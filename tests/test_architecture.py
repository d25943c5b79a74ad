"""The code's shape, checked like behaviour: the layers of DESIGN.md §5 (import-linter:
bot -> reports -> storage -> flows, nothing upwards, the dev tools never imported by the
product; contracts in pyproject.toml) and a clean lint (ruff)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def test_the_layers_hold():
    done = subprocess.run([str(BIN / "lint-imports"), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_ruff_is_clean():
    done = subprocess.run([str(BIN / "ruff"), "check", "bot", "flows", "storage", "reports", "tests", "bench"],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
