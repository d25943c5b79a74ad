"""Sealing ballots: draft -> anonymous ballot, appended to a SHA-256 hash chain.

Each ballot's hash is sha256(prev_hash + "\\n" + canonical content), where the canonical
content is a deterministic JSON of the ballot id, campaign, rater group, answers and
opinions. Altering, inserting, deleting or reordering ballots breaks the chain.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import bindparam, insert
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, col, delete, select, update

from storage.campaigns import genesis_hash
from storage.models import Answer, Ballot, CampaignRow, Conversation, Membership, Opinion


_campaign = CampaignRow.__table__
_BUMP_CHAIN = update(_campaign).where(_campaign.c.id == bindparam("campaign_id")).values(
    chain_count=_campaign.c.chain_count + 1)
_CHAIN_HEAD = select(_campaign.c.chain_head, _campaign.c.chain_count, _campaign.c.closed).where(
    _campaign.c.id == bindparam("campaign_id"))
_SET_HEAD = update(_campaign).where(_campaign.c.id == bindparam("campaign_id")).values(chain_head=bindparam("head"))
_BALLOT = insert(Ballot.__table__)
_ANSWER = insert(Answer.__table__)
_OPINION = insert(Opinion.__table__)


class AlreadySubmitted(Exception):
    pass


class NotAMember(Exception):
    pass


class CampaignClosed(Exception):
    """The campaign was closed (``minping close``) before this ballot could be sealed."""


def canonical(ballot_id: str, campaign_id: str, group_key: str,
              answers: Mapping[str, Mapping[str, str | None]], opinions: Mapping[str, str]) -> str:
    content = {
        "ballot": ballot_id,
        "campaign": campaign_id,
        "group": group_key,
        "answers": sorted([e, d, o] for e, dims in answers.items() for d, o in dims.items()),
        "opinions": sorted([e, t] for e, t in opinions.items()),
    }
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def chain_hash(prev_hash: str, content: str) -> str:
    return hashlib.sha256(f"{prev_hash}\n{content}".encode()).hexdigest()


def submit_ballot(session: Session, campaign_id: str, person_id: int, submission) -> str:  # noqa: ANN001
    """Turn a finished questionnaire into a sealed ballot; return the ballot id.

    In one transaction: lock the chain head, write ballot + answers + opinions, mark the
    membership submitted, delete the draft. Nothing ties the ballot to the person.
    """
    # The UPDATE comes first so it takes the campaign row lock before anything is read
    # (PostgreSQL row lock; on SQLite the transaction already holds the write lock).
    # Plain statements, no ORM unit of work: a ballot is some 20 answer rows.
    session.execute(_BUMP_CHAIN, {"campaign_id": campaign_id})
    head = session.execute(_CHAIN_HEAD, {"campaign_id": campaign_id}).one()
    if head.closed:
        raise CampaignClosed(campaign_id)
    member = session.exec(
        select(Membership).where(Membership.campaign_id == campaign_id, Membership.person_id == person_id)
    ).first()
    if member is None:
        raise NotAMember(campaign_id)
    if member.submitted:
        raise AlreadySubmitted(campaign_id)
    ballot_id = secrets.token_hex(16)
    opinions = {e: t for e, t in submission.opinions.items() if t}
    content = canonical(ballot_id, campaign_id, member.group_key, submission.answers, opinions)
    digest = chain_hash(head.chain_head, content)
    conn = session.connection()
    conn.execute(_BALLOT, {"id": ballot_id, "campaign_id": campaign_id, "group_key": member.group_key,
                           "seq": head.chain_count, "prev_hash": head.chain_head, "hash": digest})
    rows = [{"ballot_id": ballot_id, "evaluee_key": e, "dimension_key": d, "option_key": o}
            for e, dims in submission.answers.items() for d, o in dims.items()]
    if rows:
        conn.execute(_ANSWER, rows)
    if opinions:
        conn.execute(_OPINION, [{"ballot_id": ballot_id, "evaluee_key": e, "text": t} for e, t in opinions.items()])
    conn.execute(_SET_HEAD, {"campaign_id": campaign_id, "head": digest})
    member.submitted = True
    member.status = "submitted"
    session.add(member)
    session.exec(delete(Conversation).where(
        col(Conversation.person_id) == person_id, col(Conversation.campaign_id) == campaign_id))
    session.flush()
    # The campaign row may sit in this session's identity map: let a later read see
    # the new head and count.
    if (cached := session.identity_map.get(identity_key(CampaignRow, campaign_id))) is not None:
        session.expire(cached, ["chain_head", "chain_count"])
    return ballot_id


@dataclass(frozen=True)
class ChainProblem:
    position: int
    ballot_id: str | None
    problem: str


@dataclass
class ChainData:
    """The raw rows of a campaign's ballots, read once for the chain walk and the recount."""

    ballots: list[tuple[str, str, int, str, str]]  # (id, group, seq, prev_hash, hash) by seq
    answers: dict[str, dict[str, dict[str, str | None]]]  # ballot -> evaluee -> dimension -> option
    opinions: dict[str, dict[str, str]]


def load_chain(session: Session, campaign_id: str) -> ChainData:
    # Plain column tuples, not ORM objects: a large campaign has millions of answers.
    rows = [tuple(r) for r in session.execute(
        select(Ballot.id, Ballot.group_key, Ballot.seq, Ballot.prev_hash, Ballot.hash)
        .where(Ballot.campaign_id == campaign_id).order_by(Ballot.seq))]
    answers: dict[str, dict[str, dict[str, str | None]]] = {}
    for bid, e, d, o in session.execute(
            select(Answer.ballot_id, Answer.evaluee_key, Answer.dimension_key, Answer.option_key)
            .join(Ballot, Ballot.id == Answer.ballot_id).where(Ballot.campaign_id == campaign_id)):
        per = answers.get(bid)
        if per is None:
            per = answers[bid] = {}
        dims = per.get(e)
        if dims is None:
            dims = per[e] = {}
        dims[d] = o
    opinions: dict[str, dict[str, str]] = {}
    for bid, e, text in session.execute(
            select(Opinion.ballot_id, Opinion.evaluee_key, Opinion.text)
            .join(Ballot, Ballot.id == Opinion.ballot_id).where(Ballot.campaign_id == campaign_id)):
        opinions.setdefault(bid, {})[e] = text
    return ChainData(rows, answers, opinions)


def verify_chain(session: Session, campaign_id: str, data: ChainData | None = None) -> list[ChainProblem]:
    """Re-walk the chain from the raw rows; report every break with its position."""
    campaign = session.get(CampaignRow, campaign_id)
    data = data or load_chain(session, campaign_id)
    problems: list[ChainProblem] = []
    prev = genesis_hash(campaign_id)
    for expected_seq, (bid, group, seq, prev_hash, digest) in enumerate(data.ballots, start=1):
        if seq != expected_seq:
            problems.append(ChainProblem(expected_seq, bid, f"ballot at position {seq}, expected {expected_seq} (missing or inserted ballot)"))
        if prev_hash != prev:
            problems.append(ChainProblem(expected_seq, bid, "link to the previous ballot is broken"))
        content = canonical(bid, campaign_id, group, data.answers.get(bid, {}), data.opinions.get(bid, {}))
        if chain_hash(prev_hash, content) != digest:
            problems.append(ChainProblem(expected_seq, bid, "ballot content does not match its hash (altered)"))
        prev = digest
    n = len(data.ballots)
    if campaign is not None:
        if campaign.chain_count != n:
            problems.append(ChainProblem(n, None, f"campaign records {campaign.chain_count} ballots, found {n}"))
        if campaign.chain_head != prev:
            problems.append(ChainProblem(n, None, "the recorded chain head does not match the last ballot"))
    return problems
