"""The verification kit (issue 15, item 2), on SQLite and PostgreSQL: written from a real
closed campaign, checked by ``verify_kit.py`` in a fresh Python that cannot import
minping (``-I -S``: no site-packages, no environment, only the standard library), and
every kind of tampering caught."""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reports import kit, published, tally, verify_kit
from storage import ballots, campaigns
from storage.db import session_scope
from tests.kit_setup import CHAT, LOTTERY, LOTTERY_RESULT, OPINION, ORGANIZER, campaign_file, closed_with_kit_data

pytestmark = pytest.mark.postgres


def run_verifier(directory: Path, *args: str) -> subprocess.CompletedProcess:
    """``python -I -S verify_kit.py`` in the kit's directory: no minping on the path."""
    return subprocess.run([sys.executable, "-I", "-S", "verify_kit.py", *args], cwd=directory, capture_output=True,
                          text=True, timeout=60)


def verdict(result: subprocess.CompletedProcess) -> str:
    """The verdict line: the last line before the anchors (which always end the output)."""
    out = result.stdout.splitlines()
    return out[out.index(next(x for x in out if x.startswith("ANCHORS:"))) - 1]


def anchor(result: subprocess.CompletedProcess, label: str) -> str:
    after = result.stdout.split("\nANCHORS:", 1)[1]
    return next(x.strip() for x in after.splitlines() if x.strip().startswith(label))


@pytest.fixture
def made(engine, tmp_path):
    campaign = closed_with_kit_data(engine)
    with session_scope(engine) as s:
        written = kit.write(s, campaign, tmp_path / "kit")
    return campaign, tmp_path / "kit", written


def copy(made, tmp_path, name="tampered") -> Path:
    target = tmp_path / name
    shutil.copytree(made[1], target)
    return target


def lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def write_lines(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def edit_json(path: Path, change) -> None:  # noqa: ANN001
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def test_the_fresh_python_cannot_import_minping(made):
    _, directory, _ = made
    probe = subprocess.run([sys.executable, "-I", "-S", "-c",
                            "import sys\nassert not any('site-packages' in p for p in sys.path), sys.path\n"
                            "for m in ('flows', 'storage', 'reports', 'bot', 'sqlmodel', 'pydantic'):\n"
                            "    try:\n        __import__(m)\n    except ImportError:\n        continue\n"
                            "    raise SystemExit(m + ' importable')\nprint('stdlib only')"],
                           cwd=directory, capture_output=True, text=True, timeout=30)
    assert probe.returncode == 0 and "stdlib only" in probe.stdout, probe.stdout + probe.stderr


def test_kit_of_a_closed_campaign_matches(made):
    campaign, directory, written = made
    names = {p.relative_to(directory).as_posix() for p in written}
    assert names == {"README.txt", "verify_kit.py", "campaign.yaml", "campaign.json", "draw/pool.json",
                     "draw/drawn.json", "ballots.jsonl", "followups.jsonl", "chain.json", "counts.json",
                     "score_events.json", "published.json"}
    result = run_verifier(directory)
    assert result.returncode == 0, result.stdout + result.stderr
    assert verdict(result).startswith("MATCH") and "DIFFERENCE" not in result.stdout
    assert f"public draw «{LOTTERY}» = {LOTTERY_RESULT} (canonical 3.7.12.19.25.31./9./)" in result.stdout
    # typed from the announcement otherwise: the same canonical value, still MATCH
    own = run_verifier(directory, "--beacon-value", "31,25,19,12,7,3 + 9")
    assert own.returncode == 0, own.stdout


def test_kit_holds_no_opinion_text_no_chat_id_and_the_chain_in_chain_order(engine, made):
    campaign, directory, written = made
    text = "".join(p.read_text(encoding="utf-8") for p in written)
    assert "窗口排队" not in text and "第0号意见" not in text  # opinions only as hashes
    assert str(ORGANIZER) not in text and str(CHAT) not in text  # no chat id, the organizer's neither
    log = lines(directory / "ballots.jsonl")
    assert [b["seq"] for b in log] == list(range(1, len(log) + 1))
    hashed = {h for b in log for h in b["opinions"].values()}
    # Whoever knows an opinion's text (the evaluee reads it in its notice) cannot find its
    # ballot: the digests are keyed with the campaign's secret, which the kit never holds.
    assert len(hashed) == sum(len(b["opinions"]) for b in log) > 0
    assert hashlib.sha256(OPINION.format(0).encode()).hexdigest() not in hashed
    with session_scope(engine) as s:
        key = campaigns.get_row(s, campaign.id).opinion_key
    assert len(key) == 64 and key not in text
    assert any(ballots.opinion_hash(OPINION.format(0), key, b["ballot"]) in b["opinions"].values() for b in log)
    assert not any(key in b for b in log for key in ("person", "membership", "submitted_at", "time"))
    with session_scope(engine) as s:
        row = campaigns.get_row(s, campaign.id)
        assert (log[-1]["hash"], len(log)) == (row.chain_head, row.chain_count)
    chain = json.loads((directory / "chain.json").read_text())
    assert (chain["head"], chain["count"], chain["chain_version"]) == (row.chain_head, row.chain_count, 2)


def test_events_are_those_counted_at_close(made):
    events = json.loads((made[1] / "score_events.json").read_text())
    # the voided deduction and the bonus recorded after close are not in the tally: not in the kit
    assert events == [{"evaluee": "transport", "kind": "deduction", "item": "complaint", "points": 5.0},
                      {"evaluee": "water", "kind": "bonus", "item": "city", "points": 2.0}]


def test_published_figures_follow_the_min_group_size_rule(engine, made):
    campaign, directory, _ = made
    figures = json.loads((directory / "published.json").read_text())
    water = figures["evaluees"]["water"]
    assert water["groups"]["staff"] == {"votes": False, "weight": 15.0}  # 1 ballot: not a figure of it
    assert water["groups"]["recipients"]["votes"] and water["groups"]["recipients"]["ballots"] >= 2
    with session_scope(engine) as s:
        stored = tally.stored(s, campaign.id)
        assert figures == json.loads(json.dumps(published.published(s, campaign)))
    assert stored.evaluees["water"].groups["staff"].ballots == 1
    assert water["total"] == pytest.approx(stored.evaluees["water"].total)
    assert figures["followup"] == [{"evaluee": "transport", "round": 1, "published": True, "valid": 2,
                                    "satisfied": 2, "rate": 1.0, "low": pytest.approx(0.3424, abs=1e-4),
                                    "high": 1.0}]


def _forge_last(directory: Path) -> None:
    """A ballot appended by someone who knows the procedure: its hash is right."""
    log = lines(directory / "ballots.jsonl")
    last = log[-1]
    forged = {**last, "seq": last["seq"] + 1, "ballot": "f" * 32, "prev_hash": last["hash"]}
    content = json.dumps({"ballot": forged["ballot"], "campaign": "test-2026", "group": forged["group"],
                          "answers": sorted([e, d, o] for e, ds in forged["answers"].items() for d, o in ds.items()),
                          "opinions": sorted([e, h] for e, h in forged["opinions"].items())},
                         ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    forged["hash"] = hashlib.sha256(f"{forged['prev_hash']}\n{content}".encode()).hexdigest()
    write_lines(directory / "ballots.jsonl", [*log, forged])


def _alter_answer(directory: Path) -> None:
    log = lines(directory / "ballots.jsonl")
    b = next(b for b in log if b["group"] == "recipients" and b["answers"]["transport"]["style"] != "dissatisfied")
    b["answers"]["transport"]["style"] = "dissatisfied"
    write_lines(directory / "ballots.jsonl", log)


def _remove_ballot(directory: Path) -> None:
    log = lines(directory / "ballots.jsonl")
    write_lines(directory / "ballots.jsonl", log[:4] + log[5:])


def _change_pool(directory: Path) -> None:
    def change(pool: dict) -> None:
        pool["groups"]["recipients"]["pool"][0] = "0123456789abcdef"
    edit_json(directory / "draw" / "pool.json", change)


def _change_figure(directory: Path) -> None:
    def change(figures: dict) -> None:
        figures["evaluees"]["transport"]["total"] += 0.5
    edit_json(directory / "published.json", change)


def _smaller_sample(directory: Path) -> None:
    """The pool list's sample of recipients cut by one and the drawn list made to match
    it, so that the draw is consistent with the pool list (but not with the campaign file)."""
    drawn = json.loads((directory / "draw" / "drawn.json").read_text(encoding="utf-8"))
    key = bytes.fromhex(drawn["draw_seed"])

    def change_pool(pool: dict) -> None:
        pool["groups"]["recipients"]["sample"] -= 1
        size = pool["groups"]["recipients"]["sample"]
        ordered = sorted(pool["groups"]["recipients"]["pool"],
                         key=lambda x: (hmac.new(key, x.encode(), hashlib.sha256).hexdigest(), x))
        edit_json(directory / "draw" / "drawn.json",
                  lambda d: d["drawn"].update(recipients=[sorted(ordered[:size])] + d["drawn"]["recipients"][1:]))
    edit_json(directory / "draw" / "pool.json", change_pool)


def _recompute_figures(directory: Path) -> None:
    """published.json made anew by the verifier's own arithmetic from the (changed) campaign.json."""
    read = {name: json.loads((directory / name).read_text(encoding="utf-8"))
            for name in ("campaign.json", "score_events.json", "published.json")}
    figures = verify_kit.recompute(read["campaign.json"], lines(directory / "ballots.jsonl"), read["score_events.json"],
                                   lines(directory / "followups.jsonl"), read["published.json"]["followup"])
    (directory / "published.json").write_text(json.dumps(figures, ensure_ascii=False), encoding="utf-8")


def _reweighted_campaign(directory: Path) -> None:
    def change(campaign: dict) -> None:
        campaign["rater_groups"][0]["weight"] = 50.0
        campaign["min_group_size"] = 1
    edit_json(directory / "campaign.json", change)
    _recompute_figures(directory)


def _published_round_added(directory: Path) -> None:
    edit_json(directory / "published.json",
              lambda f: f["followup"].append({"evaluee": "water", "round": 1, "published": True, "valid": 5,
                                              "satisfied": 5, "rate": 1.0, "low": 0.57, "high": 1.0}))


TAMPERING = {
    "altered answer": (_alter_answer, ["its content does not match its hash (altered)", "figures: evaluees.transport"]),
    "removed ballot": (_remove_ballot, ["its link to the ballot before is broken", "recorded at close",
                                        "raters marked as having submitted"]),
    "added ballot": (_forge_last, ["ballots in ballots.jsonl", "is not the head recorded at close",
                                   "raters marked as having submitted"]),
    "changed seed": (lambda d: edit_json(d / "draw" / "drawn.json", lambda x: x.update(seed="ab" * 32)),
                     ["the commitment does not match the revealed seed"]),
    "beacon value in another shape": (lambda d: edit_json(d / "draw" / "drawn.json",
                                                          lambda x: x.update(beacon_value="03 07 12 19 25 31 09")),
                                      ["is not written in the shape [6+1] the commitment named"]),
    "changed beacon value": (lambda d: edit_json(d / "draw" / "drawn.json",
                                                 lambda x: x.update(beacon_value="03 07 12 19 25 32 + 09")),
                             ["the draw seed is", "round 1: should be drawn but are not"]),
    "changed pool entry": (_change_pool, ["do not give their published pool digest", "the commitment does not match"]),
    "changed published figure": (_change_figure, ["figures: evaluees.transport.total: published"]),
    "changed chain head": (lambda d: edit_json(d / "chain.json", lambda x: x.update(head="0" * 64)),
                           ["is not the head recorded at close"]),
    "changed campaign weight": (lambda d: edit_json(d / "campaign.json",
                                                    lambda x: x["rater_groups"][0].update(weight=50)),
                                ["figures: evaluees.transport.groups.recipients.weight"]),
    "changed follow-up answer": (lambda d: write_lines(d / "followups.jsonl", [
        {**f, "option": "dissatisfied"} if f["option"] == "satisfied" else f for f in lines(d / "followups.jsonl")]),
        ["figures: followup[0].satisfied"]),
    # the draw's files gone although sampled rater groups voted
    "deleted draw": (lambda d: shutil.rmtree(d / "draw"),
                     ["draw/pool.json and draw/drawn.json are missing, but the campaign file's sampled rater groups "
                      "(recipients, staff) cast"]),
    "deleted drawn list": (lambda d: (d / "draw" / "drawn.json").unlink(),
                           ["draw/drawn.json is missing, but the sampled rater groups cast"]),
    # a sample that is not the campaign file's, the drawn list made to match it
    "smaller sample": (_smaller_sample, ["the pool list gives recipients a sample of 9; the campaign file's sample "
                                         "gives 10", "recipients, round 1: should be drawn but are not"]),
    "changed stratum sample": (lambda d: edit_json(d / "draw" / "pool.json",
                                                   lambda x: x["groups"]["staff/water"].update(sample=3)),
                               ["the pool list gives staff/water a sample of 3; the campaign file's sample gives 2"]),
    # campaign.json changed and every figure recomputed from it: only the campaign file's text tells
    "changed campaign, figures recomputed": (_reweighted_campaign, [
        "campaign: rater group recipients: campaign.json gives weight 50.0, campaign.yaml 35",
        "campaign: campaign.json gives min_group_size 1, campaign.yaml 2"]),
    # a follow-up round taken out of published.json, or one put in it
    "removed follow-up round": (lambda d: edit_json(d / "published.json", lambda f: f.update(followup=[])),
                                ["the follow-up of transport round 1 has 3 answer(s) but is not in published.json"]),
    "added follow-up round": (_published_round_added,
                              ["published.json gives a follow-up of water round 1, a round counts.json does not list"]),
}


@pytest.mark.parametrize("kind", list(TAMPERING))
def test_each_tampering_is_caught(made, tmp_path, kind):
    change, expected = TAMPERING[kind]
    directory = copy(made, tmp_path)
    change(directory)
    result = run_verifier(directory)
    assert result.returncode == 1, result.stdout + result.stderr
    assert verdict(result).endswith("the kit does not check out"), result.stdout
    for phrase in expected:
        assert phrase in result.stdout, (kind, phrase, result.stdout)


def test_a_beacon_value_other_than_the_kits_is_a_difference(made):
    result = run_verifier(made[1], "--beacon-value", "03 07 12 19 25 32 + 09")
    assert result.returncode == 1 and "you entered" in result.stdout and "the draw seed is" in result.stdout


def test_an_incomplete_kit_cannot_be_checked(made, tmp_path):
    directory = copy(made, tmp_path)
    (directory / "chain.json").unlink()
    result = run_verifier(directory)
    assert result.returncode == 2 and "chain.json is missing" in result.stdout


def test_no_kit_before_close_and_none_over_other_files(engine, tmp_path):
    campaign = closed_with_kit_data(engine, close=False)
    with session_scope(engine) as s:
        with pytest.raises(kit.KitError, match="is not closed"):
            kit.write(s, campaign, tmp_path / "early")
    assert not (tmp_path / "early").exists()
    with session_scope(engine) as s:
        tally.close_campaign(s, campaign)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "old.txt").write_text("x")
    with session_scope(engine) as s:
        with pytest.raises(kit.KitError, match="not an empty directory"):
            kit.write(s, campaign, tmp_path / "busy")
    assert [p.name for p in (tmp_path / "busy").iterdir()] == ["old.txt"]


def test_a_version_1_chain_is_refused(engine, tmp_path):
    from sqlalchemy import update

    from storage.models import CampaignRow

    campaign = closed_with_kit_data(engine)
    with session_scope(engine) as s:
        s.execute(update(CampaignRow).where(CampaignRow.id == campaign.id).values(chain_version=1))
    with session_scope(engine) as s:
        with pytest.raises(kit.KitError, match="chain version 1"):
            kit.write(s, campaign, tmp_path / "old")


def test_events_of_a_tally_stored_before_they_were_kept_with_it(engine, made):
    """A tally closed before the counted records were kept with it: the records recorded
    by its computation and not voided by then."""
    from storage import tally as store

    campaign, directory, _ = made
    with session_scope(engine) as s:
        row = store.load(s, campaign.id)
        row.data = {k: v for k, v in row.data.items() if k != "counted_events"}
        s.add(row)
    with session_scope(engine) as s:
        assert "counted_events" not in store.load(s, campaign.id).data
        files = kit.build(s, campaign)
    assert json.loads(files["score_events.json"]) == json.loads((directory / "score_events.json").read_text())


def test_follow_up_answers_only_of_rounds_whose_rate_is_published(engine, tmp_path):
    """A running survey's answers are not in the kit (someone polling the board's kit.zip
    would see each answer arrive), nor those of a round with too few valid answers."""
    from datetime import date, timedelta

    from sqlmodel import select

    from storage import rectification as rs
    from storage.models import Membership
    from tests.kit_setup import CLOSED_AT

    campaign = closed_with_kit_data(engine)
    with session_scope(engine) as s:
        people = [m.person_id for m in s.exec(select(Membership).where(
            Membership.campaign_id == campaign.id, Membership.submitted).order_by(Membership.id))]
        running = rs.open_round(s, campaign.id, "water", 1, date(2027, 1, 31), CLOSED_AT + timedelta(days=1))
        running.survey_started_at = CLOSED_AT + timedelta(days=30)
        small = rs.open_round(s, campaign.id, "finance", 1, date(2027, 1, 31), CLOSED_AT + timedelta(days=1))
        small.survey_started_at = CLOSED_AT + timedelta(days=30)
        for rnd in (running, small):
            rs.ask(s, rnd.id, people[0])
            rs.answer(s, rnd.id, people[0], "dissatisfied")
        rs.close_survey(s, small, 0, 1, CLOSED_AT + timedelta(days=31))
    with session_scope(engine) as s:
        kit.write(s, campaign, tmp_path / "kit")
        shown = [(r["evaluee"], r["round"]) for r in published.published(s, campaign)["followup"] if r["published"]]
    held = {(f["evaluee"], f["round"]) for f in lines(tmp_path / "kit" / "followups.jsonl")}
    assert held == set(shown) == {("transport", 1)}
    counted = json.loads((tmp_path / "kit" / "counts.json").read_text(encoding="utf-8"))["followup_answered"]
    assert {(c["evaluee"], c["round"]) for c in counted} == {("transport", 1)}
    out = run_verifier(tmp_path / "kit")
    assert out.returncode == 0 and verdict(out).startswith("MATCH"), out.stdout


def test_the_changed_campaign_is_consistent_but_its_anchor_differs(made, tmp_path):
    """campaign.json changed and the figures recomputed: the figures agree with it; the
    campaign file's text and its SHA-256 anchor do not."""
    original = run_verifier(made[1])
    directory = copy(made, tmp_path)
    _reweighted_campaign(directory)
    result = run_verifier(directory)
    differences = [x for x in result.stdout.splitlines() if x.startswith("DIFFERENCE")]
    assert result.returncode == 1 and len(differences) == 2, result.stdout  # the figures alone would have passed
    assert all(x.startswith("DIFFERENCE: campaign: ") for x in differences)
    digest = hashlib.sha256((directory / "campaign.json").read_bytes()).hexdigest()
    assert anchor(result, "SHA-256 of campaign.json") == f"SHA-256 of campaign.json: {digest}"
    assert anchor(original, "SHA-256 of campaign.json") != anchor(result, "SHA-256 of campaign.json")
    assert anchor(original, "SHA-256 of campaign.yaml") == anchor(result, "SHA-256 of campaign.yaml")


def test_the_anchors_end_every_run(made):
    campaign, directory, _ = made
    result = run_verifier(directory)
    pool = json.loads((directory / "draw" / "pool.json").read_text(encoding="utf-8"))
    chain = json.loads((directory / "chain.json").read_text(encoding="utf-8"))
    assert "ANCHORS: MATCH means only that the kit is consistent with itself" in result.stdout
    assert anchor(result, "commitment") == f"commitment (announced before the draw): {pool['commitment']}"
    assert anchor(result, "public draw") == f"public draw (the lottery's announcement): «{LOTTERY}» = {LOTTERY_RESULT}"
    assert anchor(result, "chain head") == f"chain head at close: {chain['head']}, count {chain['count']}"
    for name in ("campaign.json", "campaign.yaml"):
        digest = hashlib.sha256((directory / name).read_bytes()).hexdigest()
        assert anchor(result, f"SHA-256 of {name}") == f"SHA-256 of {name}: {digest}"
    assert result.stdout.rstrip().splitlines()[-1].strip().startswith("SHA-256 of campaign.yaml")
    # the kit's own date of commitment is said to be no proof
    assert f"the kit says the commitment was made at {pool['committed_at']}; that is the kit's own claim, not proof" \
        in result.stdout
    # the value typed in is the anchor shown
    own = run_verifier(directory, "--beacon-value", "31,25,19,12,7,3 + 9")
    assert anchor(own, "public draw").endswith("= 31,25,19,12,7,3 + 9")


def _duplicate_in_published(directory: Path) -> None:
    text = (directory / "published.json").read_text(encoding="utf-8")
    assert '"version": 1,' in text
    (directory / "published.json").write_text(text.replace('"version": 1,', '"version": 1, "version": 1,', 1),
                                              encoding="utf-8")


def _duplicate_in_ballot(directory: Path) -> None:
    text = (directory / "ballots.jsonl").read_text(encoding="utf-8").splitlines()
    text[2] = text[2].replace('"group":', '"group":"public","group":', 1)
    (directory / "ballots.jsonl").write_text("\n".join(text) + "\n", encoding="utf-8")


def _directory_for_file(directory: Path) -> None:
    (directory / "campaign.json").unlink()
    (directory / "campaign.json").mkdir()


def _huge_weight(directory: Path) -> None:
    text = (directory / "campaign.json").read_text(encoding="utf-8")
    data = json.loads(text)
    data["rater_groups"][0]["weight"] = 10 ** 400
    (directory / "campaign.json").write_text(json.dumps(data), encoding="utf-8")


MALFORMED = {
    "duplicate key in published.json": (_duplicate_in_published, "published.json: the key 'version' appears twice"),
    "duplicate key in a ballot": (_duplicate_in_ballot, "ballots.jsonl line 3: the key 'group' appears twice"),
    "deeply nested JSON": (lambda d: (d / "published.json").write_text("[" * 200_000 + "]" * 200_000),
                           "published.json is nested too deeply"),
    "NaN": (lambda d: (d / "score_events.json").write_text('[{"evaluee": "water", "points": NaN}]'),
            "score_events.json: NaN is not a JSON number"),
    "a directory for a file": (_directory_for_file, "campaign.json cannot be read"),
    "bytes that are not UTF-8": (lambda d: (d / "followups.jsonl").write_bytes(b"\xff\xfe{}\n"),
                                 "followups.jsonl cannot be read"),
    "a number too large": (_huge_weight, "OverflowError"),
    "a ballot that is a list": (lambda d: (d / "ballots.jsonl").write_text('[1, 2]\n'), "AttributeError"),
    "a campaign without its evaluees": (lambda d: edit_json(d / "campaign.json", lambda c: c.pop("evaluees")),
                                        "KeyError"),
}


@pytest.mark.parametrize("kind", list(MALFORMED))
def test_a_malformed_kit_cannot_be_checked_and_says_so(made, tmp_path, kind):
    """Never a traceback, never exit code 1 (which means: differences found)."""
    change, expected = MALFORMED[kind]
    directory = copy(made, tmp_path)
    change(directory)
    result = run_verifier(directory)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr == "", result.stderr
    assert verdict(result).startswith("CANNOT CHECK: kit malformed"), result.stdout
    assert expected in verdict(result), (expected, result.stdout)
    assert "MATCH:" not in result.stdout and "DIFFERENCE" not in result.stdout
    assert anchor(result, "chain head").startswith("chain head at close:")  # the anchors still end it


def test_only_groups_of_weight_0_voting_match_as_the_tally_counts_them(engine, tmp_path):
    """Weight 0 is allowed; with only weight-0 groups voting there is no weight to share:
    every score 0 (reports/tally.py), and the verifier recomputes the same."""
    groups = [{**g, "weight": 0} for g in campaign_file()["rater_groups"]]
    campaign = closed_with_kit_data(engine, rater_groups=groups)
    with session_scope(engine) as s:
        kit.write(s, campaign, tmp_path / "kit")
    figures = json.loads((tmp_path / "kit" / "published.json").read_text(encoding="utf-8"))
    assert figures["evaluees"]["transport"]["scored"] and figures["evaluees"]["transport"]["democratic"] == 0.0
    result = run_verifier(tmp_path / "kit")
    assert result.returncode == 0, result.stdout + result.stderr
    assert verdict(result).startswith("MATCH")
