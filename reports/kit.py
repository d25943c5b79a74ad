"""The verification kit (``minping kit CAMPAIGN --out DIR``): everything needed to check a
closed campaign without its database, and ``verify_kit.py``, one file using only
Python's standard library that checks it (``reports/verify_kit.py``, copied as is).

Files (all UTF-8; JSON; ``.jsonl`` is one JSON object per line):

* ``campaign.yaml``: the campaign file as loaded (organizers' chat ids removed);
  ``campaign.json``: the same as the model minping used (what the verifier reads);
* ``draw/pool.json``, ``draw/drawn.json``: the lists published at commit and at reveal
  (``minping sample --out``): pseudonymous pools, commitment, the public draw named and
  its result, seed and draw seed, the drawn per round;
* ``ballots.jsonl``: the ballot chain in chain order (the shuffled order of the batches,
  never the order of submission): ballot id, rater group, answers, each opinion as a
  keyed digest of its text (never the text; the key stays secret, so a known text
  cannot be matched with its ballot), previous hash, hash;
* ``followups.jsonl``: the follow-up answers of rectification (random id, evaluee,
  round, option), sorted by their random id — only of the rounds whose rate is
  published (survey closed, at least ``min_group_size`` valid answers);
* ``chain.json``: the genesis hash, the chain head and count recorded at close;
* ``counts.json``: raters marked as having submitted, per rater group; raters marked as
  having answered each follow-up round;
* ``score_events.json``: the deductions and bonuses the tally counted at close;
* ``published.json``: the published figures (``reports/published.py``);
* ``verify_kit.py`` and ``README.txt``.

Only after close: before it there are no published figures, and a sealed campaign's
ballots are not shown to anyone. The draw's files are published at commit and reveal
anyway (``minping sample --out``).
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session

from flows.campaign import Campaign
from flows.loader import without_organizers
from reports import published
from storage import ballots, campaigns, draw, rectification
from storage import tally as store
from storage.models import CampaignRow

VERIFIER = Path(__file__).with_name("verify_kit.py")

README = """民评检验包 — minping verification kit: {campaign}

核对方法（需要 Python 3，无需安装任何其他软件）：
    python3 verify_kit.py
全部相符时显示 MATCH（退出码 0），否则逐条列出不符之处（退出码 1）。
它核对：抽签（承诺值、公开开奖号码与种子、抽中名单）、评议表哈希链、各层面份数，以及每一个公布的数字。
请另行核对：承诺值与抽签前公布的是否一致，开奖号码与彩票中心公告是否一致，哈希链头与结束时公布的是否一致。

To check (Python 3 only, nothing to install):
    python3 verify_kit.py [--beacon-value "the lottery's result as announced"]
It prints MATCH (exit code 0) or each difference (exit code 1). It recomputes the draw (commitment,
draw seed from the public draw's result, the drawn lists), the ballot chain, the counts per rater
group and every published figure. Check separately that the commitment, the public draw's result and
the chain head are the ones announced before the draw, by the lottery, and at close.

Files: campaign.yaml / campaign.json (the campaign file), draw/pool.json and draw/drawn.json (the
draw), ballots.jsonl (every ballot, opinions as SHA-256 only), followups.jsonl (follow-up answers),
chain.json (chain head and count at close), counts.json (raters marked as submitted), score_events.json
(deductions and bonuses), published.json (the published figures), verify_kit.py (the verifier).
"""


class KitError(Exception):
    """The kit cannot be made now (a clear message for the organizer)."""


def _utc(t: datetime | None) -> datetime | None:
    if t is None:
        return None
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t


def counted_at_close(session: Session, campaign_id: str, saved: store.StoredTally) -> list[dict]:
    """The deductions and bonuses the stored tally counted (kept with it at close; for a
    tally stored before that, those recorded by its computation and not voided by then).
    The organizer's names and notes are left out."""
    if "counted_events" in saved.data:
        return list(saved.data["counted_events"])
    at = _utc(saved.computed_at)
    out = []
    for ev in store.list_events(session, campaign_id):
        voided = _utc(ev.voided_at)
        if _utc(ev.recorded_at) <= at and (voided is None or voided > at):
            out.append({"evaluee": ev.evaluee_key, "kind": ev.kind, "item": ev.item, "points": ev.points})
    return out


def ballot_log(session: Session, campaign_id: str) -> list[dict]:
    """The chain in chain order, opinions as their keyed digests (``ballots.opinion_hash``)."""
    data = ballots.load_chain(session, campaign_id)
    key = session.get(CampaignRow, campaign_id).opinion_key
    return [{"seq": seq, "ballot": bid, "group": group, "answers": data.answers.get(bid, {}),
             "opinions": {e: ballots.opinion_hash(t, key, bid) for e, t in sorted(data.opinions.get(bid, {}).items())},
             "prev_hash": prev, "hash": digest}
            for bid, group, seq, prev, digest in data.ballots]


def shown_rounds(session: Session, campaign: Campaign) -> list[rectification.RectRound]:
    """The follow-up rounds whose answers the kit holds: closed, and with at least
    ``min_group_size`` valid answers — the rounds whose rate is published. A running
    survey's answers would show each new answer as it comes (to someone who polls the
    board's kit.zip), and a small round's would give its few raters away."""
    return [r for r in rectification.rounds(session, campaign.id)
            if r.survey_closed_at is not None and (r.valid or 0) >= campaign.min_group_size]


def followup_log(session: Session, campaign: Campaign) -> list[dict]:
    from sqlmodel import col, select

    shown = {r.id: r for r in shown_rounds(session, campaign)}
    FA = rectification.FollowupAnswer
    rows = session.exec(select(FA.id, FA.round_id, FA.option_key).where(col(FA.round_id).in_(list(shown)))
                        .order_by(FA.id)) if shown else []
    return [{"answer": a, "evaluee": shown[r].evaluee_key, "round": shown[r].number, "option": o}
            for a, r, o in rows]


def build(session: Session, campaign: Campaign) -> dict[str, str]:
    """The kit's files, name -> text. Raises ``KitError`` before close."""
    row = session.get(CampaignRow, campaign.id)
    saved = store.load(session, campaign.id)
    if row is None or not row.closed or saved is None:
        raise KitError(f"campaign '{campaign.id}' is not closed: the kit holds the ballots and the published figures, "
                       f"which exist only after `minping close {campaign.id}`. Before that, publish the draw's files "
                       "as `minping sample --commit/--reveal --out FILE` writes them")
    if (why := refusal(row, campaign)) is not None:
        raise KitError(why)
    definition = {k: v for k, v in row.definition.items() if k != "organizers"}
    files: dict[str, str] = {
        "README.txt": README.format(campaign=campaign.id),
        "verify_kit.py": VERIFIER.read_text(encoding="utf-8"),
        "campaign.yaml": without_organizers(row.source, campaign.organizers),
        "campaign.json": _json(definition),
    }
    if draw.committed(session, campaign.id):
        files["draw/pool.json"] = _json(draw.pool_file(session, campaign))
        if draw.revealed(session, campaign.id):
            files["draw/drawn.json"] = _json(draw.drawn_file(session, campaign))
    files["ballots.jsonl"] = _lines(ballot_log(session, campaign.id))
    files["followups.jsonl"] = _lines(followup_log(session, campaign))
    files["chain.json"] = _json({"campaign": campaign.id, "chain_version": row.chain_version,
                                 "genesis": campaigns.genesis_hash(campaign.id), "head": saved.chain_head,
                                 "count": saved.chain_count, "closed_at": _utc(saved.computed_at).isoformat()})
    files["counts.json"] = _json({
        "submitted_by_group": {g: marked for g, (_, marked) in ballots.counts_by_group(session, campaign.id).items()},
        "followup_answered": [{"evaluee": rnd.evaluee_key, "round": rnd.number, "answered": answered}
                              for rnd, _, answered in rectification.followup_counts_of(session, campaign.id)
                              if rnd.id in {r.id for r in shown_rounds(session, campaign)}]})
    files["score_events.json"] = _json(counted_at_close(session, campaign.id, saved))
    files["published.json"] = _json(published.published(session, campaign))
    return files


def refusal(row: CampaignRow, campaign: Campaign) -> str | None:
    """Why a closed campaign can have no kit, or None."""
    if row.chain_version < 2:
        return (f"the ballot chain of campaign '{campaign.id}' was begun before opinions were hashed (chain "
                "version 1): each ballot's hash covers its opinions' text, which a kit never publishes, so the "
                f"chain could not be checked from it. Check it with `minping verify {campaign.id}`")
    return None


def zipped(files: dict[str, str], folder: str) -> bytes:
    """The kit as one zip file (one folder inside), the same bytes for the same files."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in sorted(files.items()):
            info = zipfile.ZipInfo(f"{folder}/{name}", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, text.encode("utf-8"))
    return buf.getvalue()


def write(session: Session, campaign: Campaign, out: Path) -> list[Path]:
    """Write the kit into ``out`` (new or empty). Raises ``KitError``."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise KitError(f"{out} is not an empty directory: choose a new or empty one, so that no old file "
                       "passes for part of this kit")
    files = build(session, campaign)
    written = []
    for name, text in files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def _json(data: object) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=False) + "\n"


def _lines(rows: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in rows)
