"""Sealing ballots: draft -> sealed envelope -> anonymous ballot in a SHA-256 hash chain.

Each ballot's hash is sha256(prev_hash + "\\n" + canonical content), where the canonical
content is a deterministic JSON of the ballot id, campaign, rater group, answers and
opinions (chain version 2: each opinion as the SHA-256 of its text, so the chain can be
recomputed from the verification kit, which never holds an opinion's text; version 1,
chains begun before: the text). Altering, inserting, deleting or reordering ballots
breaks the chain.

Two steps, so that nothing ties a ballot to the person who cast it, also for someone
who reads the database files afterwards (DESIGN.md §7):

1. **Submit** (``submit_ballot``, the rater's transaction): the membership is marked
   submitted (a conditional UPDATE: one ballot per membership) and the answers go into a
   sealed *envelope*: a random id, the rater group, the content; no person, no time, no
   serial number. The draft is deleted.
2. **Append** (``append_envelopes``, a separate transaction: the scheduler, every
   ``chain_batch`` envelopes or after ``chain_batch_minutes``, and ``close``): the
   campaign's envelopes are shuffled and appended to the chain as ballots, answers and
   opinions (their row ids follow the shuffled order), the envelopes are deleted and the
   memberships sealed since the last batch are touched. On PostgreSQL every row the batch
   wrote (ballots, answers, the memberships) carries the batch's transaction id, none
   the submit's; ``scrub`` then rewrites the tables that held envelopes and drafts
   (``VACUUM FULL``) so that no dead row keeps them. SQLite deletes with
   ``secure_delete`` on and ``scrub`` truncates the write-ahead log.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, func, insert, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, col, delete, select, update

from storage.campaigns import genesis_hash
from storage.models import Answer, Ballot, CampaignRow, Conversation, Envelope, MemberStatus, Membership, Opinion

_campaign = CampaignRow.__table__
_member = Membership.__table__
# The campaign row is locked (UPDATE) by every submit and every batch: a batch sees all
# envelopes and marks of the submits before it, none half; ``close`` takes it too.
_COUNT_SEALED = update(_campaign).where(_campaign.c.id == bindparam("cid")).values(
    sealed_count=_campaign.c.sealed_count + 1,
    pending_since=func.coalesce(_campaign.c.pending_since, bindparam("now")))
_CLOSED = select(_campaign.c.closed).where(_campaign.c.id == bindparam("cid"))
_SEAL = update(_member).where(_member.c.campaign_id == bindparam("cid"),
                              _member.c.person_id == bindparam("pid"),
                              _member.c.submitted.is_(False)).values(submitted=True, status=MemberStatus.SUBMITTED,
                                                                     chain_batch=None)
_MEMBER = select(_member.c.group_key).where(_member.c.campaign_id == bindparam("cid"),
                                             _member.c.person_id == bindparam("pid"))
_ENVELOPE = insert(Envelope.__table__)
_BALLOT = insert(Ballot.__table__)
_ANSWER = insert(Answer.__table__)
_OPINION = insert(Opinion.__table__)


class AlreadySubmitted(Exception):
    pass


class NotAMember(Exception):
    pass


class CampaignClosed(Exception):
    """The campaign was closed (``minping close``) before this ballot could be sealed."""


CHAIN_VERSION = 2  # of new campaigns (``CampaignRow.chain_version``)


def opinion_hash(text: str, key: str, ballot_id: str) -> str:
    """What a version-2 chain and the verification kit hold of an opinion: an HMAC keyed
    with the campaign's secret ``opinion_key`` (never published) over the ballot id and
    the text. A plain hash of the text would let whoever holds the text — the evaluee
    reads every opinion in its notice — find the ballot it came from in the kit, with
    the rater's group and every answer; the ballot id keeps two equal texts apart."""
    return hmac.new(bytes.fromhex(key), f"{ballot_id}\n{text}".encode(), hashlib.sha256).hexdigest()


def canonical(ballot_id: str, campaign_id: str, group_key: str,
              answers: Mapping[str, Mapping[str, str | None]], opinions: Mapping[str, str],
              version: int = CHAIN_VERSION, opinion_key: str = "") -> str:
    """``opinions``: evaluee -> text. Version 2 puts each text's keyed digest in its place
    (``opinion_hash``)."""
    return _content(ballot_id, campaign_id, group_key,
                    sorted([e, d, o] for e, dims in answers.items() for d, o in dims.items()),
                    sorted([e, opinion_hash(t, opinion_key, ballot_id) if version >= 2 else t]
                           for e, t in opinions.items()))


def _content(ballot_id: str, campaign_id: str, group_key: str, answers: list, opinions: list) -> str:
    """The canonical JSON from the sorted [evaluee, dimension, option] and [evaluee,
    opinion] rows: one place, for sealing (``canonical``) and for the chain walk."""
    return _ENCODE({"ballot": ballot_id, "campaign": campaign_id, "group": group_key,
                    "answers": answers, "opinions": opinions})


# What json.dumps(..., ensure_ascii=False, sort_keys=True, separators=(",", ":"),
# default=str) does, its encoder made once.
_ENCODE = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str).encode


def chain_hash(prev_hash: str, content: str) -> str:
    return hashlib.sha256(f"{prev_hash}\n{content}".encode()).hexdigest()


def submit_ballot(session: Session, campaign_id: str, person_id: int, submission,  # noqa: ANN001
                  now: datetime | None = None) -> str:
    """Seal a finished questionnaire in an envelope; return its (future ballot) id.

    In one transaction: mark the membership submitted, count the ballot on the campaign,
    store the envelope, delete the draft. Nothing ties the envelope to the person."""
    # The seal is one conditional UPDATE whose row count decides: of two concurrent
    # submits by one person (any backend, any process) exactly one passes, the other
    # finds the row already submitted (PostgreSQL re-checks the condition after the
    # first commits). Plain statements, no ORM unit of work.
    session.flush()  # pending ORM changes (e.g. the membership's status) go first
    sealed = session.execute(_SEAL, {"cid": campaign_id, "pid": person_id}).rowcount
    if sealed != 1:
        exists = session.execute(_MEMBER, {"cid": campaign_id, "pid": person_id}).first()
        raise (AlreadySubmitted if exists is not None else NotAMember)(campaign_id)
    # Then the campaign row lock (PostgreSQL; on SQLite the transaction already holds the
    # write lock): ``close`` either came before (refused here) or waits for this ballot.
    session.execute(_COUNT_SEALED, {"cid": campaign_id, "now": now or datetime.now(UTC)})
    if session.execute(_CLOSED, {"cid": campaign_id}).scalar_one():
        raise CampaignClosed(campaign_id)
    group_key = session.execute(_MEMBER, {"cid": campaign_id, "pid": person_id}).one().group_key
    ballot_id = secrets.token_hex(16)
    opinions = {e: t for e, t in submission.opinions.items() if t}
    answers = {e: dict(dims) for e, dims in submission.answers.items()}
    session.connection().execute(_ENVELOPE, {"id": ballot_id, "campaign_id": campaign_id, "group_key": group_key,
                                             "content": {"answers": answers, "opinions": opinions}})
    session.exec(delete(Conversation).where(
        col(Conversation.person_id) == person_id, col(Conversation.campaign_id) == campaign_id))
    session.flush()
    # Rows this session may hold in its identity map: let a later read see the seal.
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Membership) and obj.campaign_id == campaign_id and obj.person_id == person_id:
            session.expire(obj, ["submitted", "status"])
    if (cached := session.identity_map.get(identity_key(CampaignRow, campaign_id))) is not None:
        session.expire(cached, ["sealed_count", "pending_since"])
    return ballot_id


def pending(session: Session, campaign_id: str) -> int:
    """Envelopes not yet in the chain."""
    return session.exec(select(func.count()).select_from(Envelope).where(Envelope.campaign_id == campaign_id)).one()


def due(row: CampaignRow, n_pending: int, batch: int, minutes: float, now: datetime) -> bool:
    """A batch is due once ``batch`` envelopes wait, or the oldest has waited ``minutes``."""
    if n_pending == 0:
        return False
    since = row.pending_since
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return n_pending >= batch or (since is not None and now - since >= timedelta(minutes=minutes))


def append_envelopes(session: Session, campaign_id: str) -> int:
    """Append every envelope of the campaign to the chain, in a random order; return how
    many. Call ``scrub`` after the commit."""
    rnd = secrets.SystemRandom()
    session.flush()
    session.execute(update(CampaignRow).where(col(CampaignRow.id) == campaign_id)
                    .values(chain_batches=CampaignRow.chain_batches + 1))  # the row lock first
    row = session.execute(select(_campaign.c.chain_head, _campaign.c.chain_count, _campaign.c.chain_batches,
                                 _campaign.c.chain_version, _campaign.c.opinion_key)
                          .where(_campaign.c.id == campaign_id)).one()
    envelopes = [tuple(e) for e in session.execute(select(Envelope.id, Envelope.group_key, Envelope.content)
                                                   .where(Envelope.campaign_id == campaign_id))]
    if not envelopes:
        session.execute(update(CampaignRow).where(col(CampaignRow.id) == campaign_id).values(pending_since=None))
        return 0
    rnd.shuffle(envelopes)
    head, seq = row.chain_head, row.chain_count
    conn = session.connection()
    for ballot_id, group_key, content in envelopes:
        answers, opinions = content.get("answers", {}), content.get("opinions", {})
        digest = chain_hash(head, canonical(ballot_id, campaign_id, group_key, answers, opinions, row.chain_version,
                                            row.opinion_key))
        seq += 1
        conn.execute(_BALLOT, {"id": ballot_id, "campaign_id": campaign_id, "group_key": group_key,
                               "seq": seq, "prev_hash": head, "hash": digest})
        rows = [{"ballot_id": ballot_id, "evaluee_key": e, "dimension_key": d, "option_key": o}
                for e, dims in answers.items() for d, o in dims.items()]
        if rows:
            conn.execute(_ANSWER, rows)
        if opinions:
            conn.execute(_OPINION, [{"ballot_id": ballot_id, "evaluee_key": e, "text": t} for e, t in opinions.items()])
        head = digest
    session.execute(delete(Envelope).where(col(Envelope.campaign_id) == campaign_id))
    # Touch the memberships sealed since the last batch: their current row now carries
    # this transaction's id, like the ballots, not the submit's.
    session.execute(update(Membership).where(col(Membership.campaign_id) == campaign_id, col(Membership.submitted),
                                             col(Membership.chain_batch).is_(None))
                    .values(chain_batch=row.chain_batches))
    session.execute(update(CampaignRow).where(col(CampaignRow.id) == campaign_id)
                    .values(chain_head=head, chain_count=seq, pending_since=None))
    if (cached := session.identity_map.get(identity_key(CampaignRow, campaign_id))) is not None:
        session.expire(cached)
    return len(envelopes)


def scrub(engine: Engine) -> None:
    """After a batch: leave no readable copy of an envelope or a deleted draft in the
    database files. PostgreSQL: rewrite those tables (``VACUUM FULL``; a lock of a few
    milliseconds per thousand rows) and vacuum the memberships. SQLite: deleted content
    is already zeroed (``secure_delete``); checkpoint and truncate the write-ahead log."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            for statement in ("VACUUM FULL envelope", "VACUUM FULL conversation", "VACUUM membership"):
                conn.exec_driver_sql(statement)
    elif engine.dialect.name == "sqlite":
        raw = engine.raw_connection()  # outside any transaction, as a checkpoint must be
        try:
            raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()


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
    for bid, e, said in session.execute(
            select(Opinion.ballot_id, Opinion.evaluee_key, Opinion.text)
            .join(Ballot, Ballot.id == Opinion.ballot_id).where(Ballot.campaign_id == campaign_id)):
        opinions.setdefault(bid, {})[e] = said
    return ChainData(rows, answers, opinions)


# The chain walk: one ordered pass over the campaign's ballots, each row carrying its
# answers as the JSON texts of [evaluee, dimension, option], made by the database and
# joined by a record separator (a raw control character never occurs in JSON text): a
# correlated subquery through the covering answer index, no sort of the million
# answers, no query per ballot, no ORM objects.
_ROW_SEP = "\x1e"
_WALK = {
    "sqlite": text(
        "SELECT b.id, b.group_key, b.seq, b.prev_hash, b.hash, "
        "(SELECT group_concat(json_array(a.evaluee_key, a.dimension_key, a.option_key), char(30)) "
        " FROM answer a WHERE a.ballot_id = b.id) "
        "FROM ballot b WHERE b.campaign_id = :cid ORDER BY b.seq"),
    "postgresql": text(
        "SELECT b.id, b.group_key, b.seq, b.prev_hash, b.hash, "
        "(SELECT string_agg('[' || to_json(a.evaluee_key)::text || ',' || to_json(a.dimension_key)::text || ','"
        "  || coalesce(to_json(a.option_key)::text, 'null') || ']', chr(30)) "
        " FROM answer a WHERE a.ballot_id = b.id) "
        "FROM ballot b WHERE b.campaign_id = :cid ORDER BY b.seq"),
}


def _any_order(row: list) -> tuple:
    return tuple((x is not None, "" if x is None else str(x)) for x in row)


def answer_rows(texts: list[str]) -> list[list]:
    """The [evaluee, dimension, option] rows of a walked ballot's texts, as ``canonical``
    sorts them (a duplicate kept, not merged)."""
    rows = [json.loads(t) for t in texts]
    try:
        rows.sort()
    except TypeError:  # one (evaluee, dimension) twice, with and without an option: altered
        rows.sort(key=_any_order)
    return rows


def walk_chain(session: Session, campaign_id: str, version: int = CHAIN_VERSION,
               opinion_key: str = "") -> Iterator[tuple]:
    """Every ballot in chain order as (id, group, seq, prev_hash, hash, answers,
    content): ``answers`` the JSON texts of its [evaluee, dimension, option] rows, sorted
    (a duplicate kept, not merged), ``content`` the canonical JSON of the ballot.
    Streamed: a ballot at a time.

    Fast path: the database's texts are those ``canonical`` writes, and sorting them as
    text sorts the rows, for keys of the campaign file's form (``KEY_PATTERN``: no
    character that JSON escapes or that sorts before the closing quote); for a ballot
    with any other text, ``content`` is made as ``canonical`` makes it, from the parsed
    rows. A text that does not parse to what it claims can only differ from the sealed
    content: never a false match."""
    opinions: dict[str, dict[str, str]] = {}
    for bid, e, t in session.execute(
            select(Opinion.ballot_id, Opinion.evaluee_key, Opinion.text)
            .join(Ballot, Ballot.id == Opinion.ballot_id).where(Ballot.campaign_id == campaign_id)):
        opinions.setdefault(bid, {})[e] = t
    conn = session.connection()
    query = _WALK.get(conn.dialect.name, _WALK["sqlite"])
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL jit = off")  # compiling costs more than it saves here
    result = conn.execution_options(stream_results=True, yield_per=2000).execute(query, {"cid": campaign_id})
    prefix = ',"campaign":' + _ENCODE(campaign_id) + ',"group":'
    plain, key_like = _plain_text, _key_text
    groups: dict[str, str] = {}  # group -> its JSON text
    for bid, group, seq, prev_hash, digest, joined in result:
        texts = joined.split(_ROW_SEP) if joined else []
        texts.sort()
        said = opinions.get(bid)
        said_rows = sorted([e, opinion_hash(t, opinion_key, bid) if version >= 2 else t]
                           for e, t in said.items()) if said else []
        if plain(joined or "") and key_like(bid):
            group_text = groups.get(group) or groups.setdefault(group, _ENCODE(group))
            content = ('{"answers":[' + ",".join(texts) + '],"ballot":"' + bid + '"' + prefix + group_text
                       + ',"opinions":' + (_ENCODE(said_rows) if said_rows else "[]") + "}")
        else:
            content = _content(bid, campaign_id, group, answer_rows(texts), said_rows)
        yield bid, group, seq, prev_hash, digest, texts, content


# The texts of keys of the campaign file's form: letters, digits, "_", "-", and the JSON
# punctuation and null around them. Anything else goes the slow, exact way.
_plain_text = re.compile(r'[\x1e\[\]",A-Za-z0-9_-]*').fullmatch
_key_text = re.compile(r"[A-Za-z0-9_-]*").fullmatch  # JSON text: the key in quotes


def verify_chain(session: Session, campaign_id: str,
                 visit: Callable[[str, list[str]], None] | None = None) -> list[ChainProblem]:
    """Re-walk the chain from the raw rows; report every break with its position.
    ``visit(group, answers)`` sees each ballot's rows just hashed, as the JSON texts of
    [evaluee, dimension, option] (``walk_chain``)."""
    campaign = session.get(CampaignRow, campaign_id)
    problems: list[ChainProblem] = []
    prev = genesis_hash(campaign_id)
    version = campaign.chain_version if campaign is not None else CHAIN_VERSION
    key = campaign.opinion_key if campaign is not None else ""
    sha256 = hashlib.sha256
    n = 0
    for bid, group, seq, prev_hash, digest, answers, content in walk_chain(session, campaign_id, version, key):
        n += 1
        if seq != n:
            problems.append(ChainProblem(n, bid, f"ballot at position {seq}, expected {n} (missing or inserted ballot)"))
        if prev_hash != prev:
            problems.append(ChainProblem(n, bid, "link to the previous ballot is broken"))
        if sha256(f"{prev_hash}\n{content}".encode()).hexdigest() != digest:
            problems.append(ChainProblem(n, bid, "ballot content does not match its hash (altered)"))
        if visit is not None:
            visit(group, answers)
        prev = digest
    if campaign is not None:
        if campaign.chain_count != n:
            problems.append(ChainProblem(n, None, f"campaign records {campaign.chain_count} ballots, found {n}"))
        if campaign.chain_head != prev:
            problems.append(ChainProblem(n, None, "the recorded chain head does not match the last ballot"))
    return problems


def counts_by_group(session: Session, campaign_id: str) -> dict[str, tuple[int, int]]:
    """Per rater group: (ballots in the chain or in envelopes, members marked submitted).
    Equal unless a ballot was added or dropped beside the seal (a double count, a lost
    ballot)."""
    cast: dict[str, int] = {}
    for table in (Ballot, Envelope):
        for g, n in session.exec(select(table.group_key, func.count()).where(table.campaign_id == campaign_id)
                                 .group_by(table.group_key)).all():
            cast[g] = cast.get(g, 0) + n
    # An after-service rater casts a ballot per service visit: every visit but one still
    # being answered (``membership.visits``).
    from sqlalchemy import case

    per_member = case((Membership.only_evaluee.is_(None), case((Membership.submitted, 1), else_=0)),
                      (Membership.submitted, Membership.visits), else_=Membership.visits - 1)
    marked = dict(session.exec(select(Membership.group_key, func.sum(per_member))
                               .where(Membership.campaign_id == campaign_id)
                               .group_by(Membership.group_key)).all())
    marked = {g: int(n or 0) for g, n in marked.items() if n}
    return {g: (int(cast.get(g, 0)), int(marked.get(g, 0))) for g in sorted(set(cast) | set(marked))}

def opinions(session: Session, campaign_id: str, evaluee_key: str) -> list[tuple[str, str]]:
    """(rater group, text) of every opinion about the evaluee, in no meaningful order
    (callers shuffle before anything is shown)."""
    return list(session.exec(select(Ballot.group_key, Opinion.text).join(Ballot, Ballot.id == Opinion.ballot_id)
                             .where(Ballot.campaign_id == campaign_id, Opinion.evaluee_key == evaluee_key)))
