"""The verifiable draw of raters (pure: no database, no clock, no randomness of its own).

Procedure, published with every draw so anyone can recompute it:

1. At ``commit`` each sampled rater group's pool is frozen as a list of pseudonyms
   (``pseudonym``: HMAC-SHA256 of a per-campaign secret and the membership id, cut to 16
   hex digits; never a chat id or a name). The pool digest is SHA-256 of the pool's
   canonical JSON (``pool_digest``). A fresh 256-bit seed is drawn, kept secret, and
   its commitment ``SHA-256(seed_hex + "\\n" + pool_digest)`` is published together with
   the pool list. The commitment binds the seed *and* the pool: neither can change
   afterwards without the commitment failing.
2. At ``reveal`` every pseudonym of a group is ordered by
   ``HMAC-SHA256(key=seed bytes, message=pseudonym)`` (hex, ties by pseudonym), and the
   first ``sample`` are drawn (round 1). A pool smaller than its sample is taken whole.
3. Replacements (round 2, 3, …) take the next ones in the same order, one per
   non-responder: no new randomness, so they are as verifiable as round 1.

A draw nobody can choose (RFC 3797 style). A seed made by the server alone could be
tried again and again by whoever runs the commit until one gives a sample to their
liking. So the commit also names a *public draw that has not happened yet* (the
``beacon``: e.g. the winning numbers of a named, dated lottery draw), and the
commitment binds it: ``SHA-256(seed + "\n" + pool_digest + "\n" + beacon)``. At the
reveal the organizer enters that draw's value; the pools are ordered with the *draw
seed* ``SHA-256(seed + "\n" + canonical_beacon(value))`` (``beacon_seed``). The committed
seed alone no longer decides the sample, and nobody knows the value at commit time.
A draw committed without a beacon (``--no-beacon``, and every draw made before the
beacon existed) uses the committed seed itself, as before.

Strata. Each sampled rater group is drawn on its own; a group whose raters rate only
their own unit (``rates: own_unit``) is drawn per unit, so that every unit gets its
share of staff raters instead of leaving it to chance. The group's sample is split
across its units in equal shares, the remainder one each to the first units in the
campaign file's order (``split``); the published lists name such a stratum
``group/unit`` (``stratum_name``) and give its own sample.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flows.campaign import Campaign

PROCEDURE = ("order each group's pseudonyms by HMAC-SHA256(key=bytes.fromhex(seed), msg=pseudonym) "
             "as hex (ties by pseudonym); round 1 = the first `sample`; each replacement round = the "
             "next ones in that order; commitment = SHA-256(seed + '\\n' + pool_digest), "
             "pool_digest = SHA-256 of the canonical JSON of {group: sorted pseudonyms}")
PROCEDURE_BEACON = ("order each group's pseudonyms by HMAC-SHA256(key=bytes.fromhex(draw_seed), msg=pseudonym) "
                    "as hex (ties by pseudonym); round 1 = the first `sample`; each replacement round = the next "
                    "ones in that order; draw_seed = SHA-256(seed + '\\n' + canonical beacon value) as hex; "
                    "commitment = SHA-256(seed + '\\n' + pool_digest + '\\n' + beacon), published before the "
                    "beacon's draw took place; pool_digest = SHA-256 of the canonical JSON of {group: sorted "
                    "pseudonyms}; canonical beacon value: RFC 3797 style, see BEACON_RULE")
BEACON_RULE = ("NFKC; groups split at '+', '|' or '/'; a group of whole numbers (separated by spaces, commas, "
               "'、' or ';') becomes each number in ascending order without leading zeros followed by '.', the "
               "group followed by '/' (\"03 07 12 19 25 31 + 09\" -> \"3.7.12.19.25.31./9./\"); any other value "
               "is taken as text: lower case, runs of white space as one space")
BEACON_MAX = 300  # characters of a beacon's name or value
_NUMBERS = re.compile(r"[0-9]+(?:[\s,、;]+[0-9]+)*", re.ASCII)


@dataclass(frozen=True)
class Stratum:
    name: str  # "recipients", or "staff/water" for one unit of an own-unit group
    group: str
    unit: str | None
    sample: int


def stratum_name(group: str, unit: str | None) -> str:
    return f"{group}/{unit}" if unit is not None else group


def split(sample: int, units: Sequence[str]) -> dict[str, int]:
    """An own-unit group's sample across its units: equal shares, the remainder one
    each to the first units (campaign file order). ``split(60, 4 units)`` = 15 each;
    ``split(10, [a, b, c])`` = a 4, b 3, c 3."""
    if not units:
        return {}
    base, extra = divmod(sample, len(units))
    return {u: base + (1 if i < extra else 0) for i, u in enumerate(units)}


def strata(campaign: Campaign) -> list[Stratum]:
    """What is drawn: one stratum per sampled rater group, or per unit of an own-unit
    group, in campaign order."""
    out = []
    for g in campaign.rater_groups:
        if g.open or not g.sample:
            continue
        if g.rates == "own_unit":
            out += [Stratum(stratum_name(g.key, u), g.key, u, n) for u, n in split(g.sample, campaign.units).items()]
        else:
            out.append(Stratum(g.key, g.key, None, g.sample))
    return out


def pseudonym(secret: bytes, campaign_id: str, membership_id: int) -> str:
    return hmac.new(secret, f"{campaign_id}:{membership_id}".encode(), hashlib.sha256).hexdigest()[:16]


def canonical_pool(pools: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    return {g: sorted(set(p)) for g, p in sorted(pools.items())}


def pool_digest(pools: Mapping[str, Iterable[str]]) -> str:
    blob = json.dumps(canonical_pool(pools), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def commitment(seed: str, digest: str, beacon: str | None = None) -> str:
    """Binds the seed and the pool, and the named public draw when there is one."""
    if beacon is None:
        return hashlib.sha256(f"{seed}\n{digest}".encode()).hexdigest()
    return hashlib.sha256(f"{seed}\n{digest}\n{beacon}".encode()).hexdigest()


def canonical_beacon(value: str) -> str:
    """The public draw's value in one canonical form (``BEACON_RULE``), so that everyone
    who types it from the announcement gets the same draw seed: the order in which the
    balls came out, spaces, commas, full-width digits and leading zeros do not matter.
    For digits whose order matters (福彩3D), write one group per digit: "3 + 7 + 2".
    Raises ``ValueError`` for an empty value."""
    text = unicodedata.normalize("NFKC", value).strip()
    if not text:
        raise ValueError("the value of the public draw is empty")
    groups = [g.strip() for g in re.split(r"[+|/]", text)]
    if beacon_kind(text) == "numbers":
        return "".join("".join(f"{n}." for n in sorted(int(x) for x in re.split(r"[\s,、;]+", g))) + "/"
                       for g in groups)
    return " ".join(text.lower().split())


def beacon_kind(value: str) -> str:
    """How ``canonical_beacon`` reads the value: "numbers" or "text" (shown to the organizer)."""
    text = unicodedata.normalize("NFKC", value).strip()
    return "numbers" if text and all(_NUMBERS.fullmatch(g.strip()) for g in re.split(r"[+|/]", text)) else "text"


# The shape of the public draw's result, named at commit as the end of its name:
# "[6+1]" six numbers, then one (双色球); "[1+1+1]" three digits in order (福彩3D);
# "[text]" a value that is not numbers. Bound by the commitment with the name, it leaves
# one way to write the result: the one who reveals cannot pick among spellings ("372",
# "3 7 2", with labels or without) that would give different seeds.
_SHAPE = re.compile(r"\[(text|[1-9][0-9]?(?:\+[1-9][0-9]?){0,9})\]$")
_GROUP = re.compile(r"[0-9]+(?:[\s,、;]+[0-9]+)*")


def with_shape(name: str, shape: str) -> str:
    """The public draw's name as committed: ``name`` and its result's ``shape``."""
    shape = "".join(unicodedata.normalize("NFKC", shape).split()).lower()
    if not _SHAPE.fullmatch(f"[{shape}]"):
        raise ValueError(f"the shape of the public draw's result must be like 6+1 (six numbers, then one), "
                         f"1+1+1 (three digits in order) or text; not '{shape}'")
    return f"{name} [{shape}]"


def beacon_shape(beacon: str) -> tuple[int, ...] | str | None:
    """The shape named at the end of a public draw's name: group sizes, "text", or None
    (a name committed without one)."""
    m = _SHAPE.search(beacon.strip())
    if m is None:
        return None
    return "text" if m.group(1) == "text" else tuple(int(n) for n in m.group(1).split("+"))


def shape_problem(beacon: str, value: str) -> str | None:
    """Why ``value`` is not written in the shape the commitment named, or None."""
    shape = beacon_shape(beacon)
    if shape is None or shape == "text":
        return None
    groups = [g.strip() for g in re.split(r"[+|/]", unicodedata.normalize("NFKC", value).strip())]
    sizes = [len(re.split(r"[\s,、;]+", g)) if _GROUP.fullmatch(g) else 0 for g in groups]
    if sizes != list(shape):
        want = " + ".join(" ".join(["N"] * n) for n in shape)
        return (f"the public draw was committed with its result's shape [{'+'.join(map(str, shape))}]: write it as "
                f"{want} (numbers only, groups joined by '+'), e.g. for [6+1] \"03 07 12 19 25 31 + 09\"")
    return None


def beacon_seed(seed: str, value: str) -> str:
    """The draw seed: the committed seed combined with the public draw's value (taken
    to its canonical form first)."""
    return hashlib.sha256(f"{seed}\n{canonical_beacon(value)}".encode()).hexdigest()


def order(seed: str, pool: Iterable[str]) -> list[str]:
    """The pool in draw order for ``seed`` (hex)."""
    key = bytes.fromhex(seed)
    return sorted(set(pool), key=lambda p: (hmac.new(key, p.encode(), hashlib.sha256).hexdigest(), p))


def draw(seed: str, pool: Iterable[str], n: int) -> list[str]:
    """Round 1: the first ``n`` of the pool in draw order (all of it if smaller)."""
    return order(seed, pool)[:n]


def rounds(seed: str, pool: Iterable[str], sizes: Sequence[int]) -> list[list[str]]:
    """Round 1 of ``sizes[0]``, then each replacement round of ``sizes[i]``, in order."""
    ordered = order(seed, pool)
    out, at = [], 0
    for n in sizes:
        out.append(ordered[at:at + n])
        at += n
    return out


@dataclass
class Verification:
    ok: bool
    problems: list[str] = field(default_factory=list)
    drawn: dict[str, list[list[str]]] = field(default_factory=dict)  # group -> rounds (recomputed)
    draw_seed: str | None = None  # the seed that orders the pools (recomputed)


def verify(pool_file: Mapping, seed: str, commit: str, drawn: Mapping[str, Sequence[Sequence[str]]] | None = None,
           beacon_value: str | None = None) -> Verification:
    """Recompute the draw from the published pool list, the revealed seed and the
    published commitment; compare with the published drawn list if given.

    ``pool_file``: ``{"groups": {group: {"sample": n, "pool": [pseudonyms]}}}`` (the file
    written at commit), with ``"beacon"`` when the draw was committed to a public draw;
    then ``beacon_value`` (that draw's result) is needed. ``drawn``: ``{group: [[round 1
    pseudonyms], [round 2 …], …]}``.
    """
    problems: list[str] = []
    groups = pool_file.get("groups", {})
    pools = {g: v.get("pool", []) for g, v in groups.items()}
    beacon = pool_file.get("beacon")
    try:
        bytes.fromhex(seed)
    except ValueError:
        return Verification(False, ["the seed is not a hexadecimal string"])
    if beacon is not None and beacon_value is None:
        return Verification(False, [f"this draw was committed to the public draw «{beacon}»: give its result "
                                    "(--beacon-value) to recompute the draw"])
    if beacon is None and beacon_value is not None:
        return Verification(False, ["the pool list names no public draw (committed with --no-beacon, or before "
                                    "minping had them): its draw is recomputed from the seed alone, without "
                                    "--beacon-value"])
    if beacon is not None and (wrong := shape_problem(beacon, beacon_value or "")) is not None:
        return Verification(False, [wrong])
    try:
        draw_seed = seed if beacon is None else beacon_seed(seed, beacon_value or "")
    except ValueError as exc:
        return Verification(False, [str(exc)])
    digest = pool_digest(pools)
    if pool_file.get("pool_digest") not in (None, digest):
        problems.append(f"the pool list does not match its own pool_digest ({pool_file.get('pool_digest')} "
                        f"published, {digest} recomputed): the pool list was changed")
    if commitment(seed, digest, beacon) != commit.strip().lower():
        problems.append("the commitment does not match this seed and pool list"
                        + (" and the public draw named" if beacon is not None else "")
                        + ": the seed or the pool was changed")
    out: dict[str, list[list[str]]] = {}
    for g, v in sorted(groups.items()):
        sizes = [int(v.get("sample") or 0)]
        if drawn is not None and g in drawn:
            sizes += [len(r) for r in list(drawn[g])[1:]]
        out[g] = rounds(draw_seed, pools[g], sizes)
        if drawn is None:
            continue
        published = [sorted(r) for r in drawn.get(g, [])]
        if [sorted(r) for r in out[g]] != published:
            for i, (mine, theirs) in enumerate(zip(out[g], published + [[]] * len(out[g]), strict=False), 1):
                missing, extra = sorted(set(mine) - set(theirs)), sorted(set(theirs) - set(mine))
                if missing or extra:
                    problems.append(f"group {g}, round {i}: recomputed draw differs — should be drawn but are not: "
                                    f"{', '.join(missing) or 'none'}; drawn but should not be: {', '.join(extra) or 'none'}")
    if drawn is not None:
        for g in sorted(set(drawn) - set(groups)):
            problems.append(f"group {g} is in the drawn list but not in the pool list")
    return Verification(not problems, problems, out, draw_seed)
