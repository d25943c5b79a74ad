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

from sqlmodel import Session, col, delete, select, update

from storage.campaigns import genesis_hash
from storage.models import Answer, Ballot, CampaignRow, Conversation, Membership, Opinion


class AlreadySubmitted(Exception):
    pass


class NotAMember(Exception):
    pass


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
    session.exec(
        update(CampaignRow).where(col(CampaignRow.id) == campaign_id).values(chain_count=CampaignRow.chain_count + 1)
    )
    campaign = session.exec(select(CampaignRow).where(CampaignRow.id == campaign_id)).one()
    session.refresh(campaign)
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
    digest = chain_hash(campaign.chain_head, content)
    session.add(Ballot(id=ballot_id, campaign_id=campaign_id, group_key=member.group_key,
                       seq=campaign.chain_count, prev_hash=campaign.chain_head, hash=digest))
    session.flush()
    session.add_all(
        Answer(ballot_id=ballot_id, evaluee_key=e, dimension_key=d, option_key=o)
        for e, dims in submission.answers.items() for d, o in dims.items()
    )
    session.add_all(Opinion(ballot_id=ballot_id, evaluee_key=e, text=t) for e, t in opinions.items())
    campaign.chain_head = digest
    member.submitted = True
    member.status = "submitted"
    session.add_all([campaign, member])
    session.exec(delete(Conversation).where(
        col(Conversation.person_id) == person_id, col(Conversation.campaign_id) == campaign_id))
    session.flush()
    return ballot_id


@dataclass(frozen=True)
class ChainProblem:
    position: int
    ballot_id: str | None
    problem: str


def verify_chain(session: Session, campaign_id: str) -> list[ChainProblem]:
    """Re-walk the chain from the raw rows; report every break with its position."""
    campaign = session.get(CampaignRow, campaign_id)
    ballots = list(session.exec(select(Ballot).where(Ballot.campaign_id == campaign_id).order_by(Ballot.seq)))
    answers: dict[str, dict[str, dict[str, str | None]]] = {}
    for a in session.exec(select(Answer).join(Ballot).where(Ballot.campaign_id == campaign_id)):
        answers.setdefault(a.ballot_id, {}).setdefault(a.evaluee_key, {})[a.dimension_key] = a.option_key
    opinions: dict[str, dict[str, str]] = {}
    for o in session.exec(select(Opinion).join(Ballot).where(Ballot.campaign_id == campaign_id)):
        opinions.setdefault(o.ballot_id, {})[o.evaluee_key] = o.text
    problems: list[ChainProblem] = []
    prev = genesis_hash(campaign_id)
    for expected_seq, b in enumerate(ballots, start=1):
        if b.seq != expected_seq:
            problems.append(ChainProblem(expected_seq, b.id, f"ballot at position {b.seq}, expected {expected_seq} (missing or inserted ballot)"))
        if b.prev_hash != prev:
            problems.append(ChainProblem(expected_seq, b.id, "link to the previous ballot is broken"))
        content = canonical(b.id, campaign_id, b.group_key, answers.get(b.id, {}), opinions.get(b.id, {}))
        if chain_hash(b.prev_hash, content) != b.hash:
            problems.append(ChainProblem(expected_seq, b.id, "ballot content does not match its hash (altered)"))
        prev = b.hash
    if campaign is not None:
        if campaign.chain_count != len(ballots):
            problems.append(ChainProblem(len(ballots), None, f"campaign records {campaign.chain_count} ballots, found {len(ballots)}"))
        if campaign.chain_head != prev:
            problems.append(ChainProblem(len(ballots), None, "the recorded chain head does not match the last ballot"))
    return problems
