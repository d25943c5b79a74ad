"""``minping demo --framework ptb``: the whole sample campaign through python-telegram-bot
over HTTP (a small crowd), with the results it prints matching the database."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from sqlmodel import func, select
from typer.testing import CliRunner

from bot.cli import app
from storage.db import make_engine, session_scope
from storage.models import Ballot


def test_demo_on_python_telegram_bot(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["demo", "--raters", "12", "--framework", "ptb", "--seed", "7"])
    assert result.exit_code == 0, result.output
    assert "ptb over HTTP" in result.output
    # the demo's draw is bound to a (made-up) public draw, and its kit checks out in a bare Python
    assert "bound to the public draw" in result.output and "verify-draw from the published lists: MATCH" in result.output
    assert "verify_kit.py there: MATCH" in result.output, result.output
    kit = tmp_path / "var/demo/kit"
    assert _verify(kit).returncode == 0
    log = [json.loads(line) for line in (kit / "ballots.jsonl").read_text(encoding="utf-8").splitlines()]
    answers = next(b for b in log if any(o for ds in b["answers"].values() for o in ds.values()))["answers"]
    evaluee, dims = next((e, ds) for e, ds in answers.items() if any(ds.values()))
    dimension = next(d for d, o in dims.items() if o)
    dims[dimension] = "dissatisfied" if dims[dimension] != "dissatisfied" else "satisfied"  # one answer altered
    (kit / "ballots.jsonl").write_text("".join(json.dumps(b, ensure_ascii=False) + "\n" for b in log), encoding="utf-8")
    altered = _verify(kit)
    assert altered.returncode == 1 and "(altered)" in altered.stdout, altered.stdout
    submitted = int(re.search(r"(\d+) ballots submitted", result.output).group(1))
    assert submitted > 0
    engine = make_engine(f"sqlite:///{tmp_path / 'var/demo/demo.db'}")
    with session_scope(engine) as s:
        assert s.exec(select(func.count()).select_from(Ballot)).one() == submitted
    engine.dispose()


def _verify(kit):
    """verify_kit.py as anyone runs it: a bare Python (``-I -S``, no minping)."""
    return subprocess.run([sys.executable, "-I", "-S", "verify_kit.py"], cwd=kit, capture_output=True, text=True,
                          timeout=60)


def _figures(directory):
    """The stored tally (without its time) and every ballot's answers, order aside."""
    from collections import Counter

    from storage import tally as store
    from storage.models import Answer

    engine = make_engine(f"sqlite:///{directory / 'var/demo/demo.db'}")
    with session_scope(engine) as s:
        data = dict(store.load(s, "county-2026").data)
        data.pop("computed_at")
        rows = s.exec(select(Answer.ballot_id, Answer.evaluee_key, Answer.dimension_key, Answer.option_key)).all()
    engine.dispose()
    per_ballot: dict = {}
    for ballot, *answer in rows:
        per_ballot.setdefault(ballot, []).append(tuple(answer))
    return data, Counter(tuple(sorted(a, key=str)) for a in per_ballot.values())


def test_same_seed_same_demo(tmp_path, monkeypatch):
    """Two runs with one seed: the same ballots and the same tally (the draw's seed is made
    from --seed, people open their links in a fixed order); another seed differs."""
    runs = []
    for name, seed in (("a", "11"), ("b", "11"), ("c", "12")):
        (tmp_path / name).mkdir()
        monkeypatch.chdir(tmp_path / name)
        result = CliRunner().invoke(app, ["demo", "--raters", "40", "--seed", seed])
        assert result.exit_code == 0, result.output
        runs.append(_figures(tmp_path / name))
    assert runs[0] == runs[1]
    assert runs[0][0]["ballots"] > 10
    assert runs[0] != runs[2]


def test_demo_without_the_dev_tools_says_why():
    """The container image ships the product without devtools/: `minping demo` says so."""
    import subprocess
    import sys

    code = ("import sys; sys.modules['devtools'] = None; sys.argv = ['minping', 'demo']; "
            "from bot.cli import main; main()")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 1, out.stderr
    assert "development tools" in out.stdout + out.stderr and "Traceback" not in out.stderr
