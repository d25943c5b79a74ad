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
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

PROCEDURE = ("order each group's pseudonyms by HMAC-SHA256(key=bytes.fromhex(seed), msg=pseudonym) "
             "as hex (ties by pseudonym); round 1 = the first `sample`; each replacement round = the "
             "next ones in that order; commitment = SHA-256(seed + '\\n' + pool_digest), "
             "pool_digest = SHA-256 of the canonical JSON of {group: sorted pseudonyms}")


def pseudonym(secret: bytes, campaign_id: str, membership_id: int) -> str:
    return hmac.new(secret, f"{campaign_id}:{membership_id}".encode(), hashlib.sha256).hexdigest()[:16]


def canonical_pool(pools: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    return {g: sorted(set(p)) for g, p in sorted(pools.items())}


def pool_digest(pools: Mapping[str, Iterable[str]]) -> str:
    blob = json.dumps(canonical_pool(pools), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def commitment(seed: str, digest: str) -> str:
    return hashlib.sha256(f"{seed}\n{digest}".encode()).hexdigest()


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


def verify(pool_file: Mapping, seed: str, commit: str, drawn: Mapping[str, Sequence[Sequence[str]]] | None = None
           ) -> Verification:
    """Recompute the draw from the published pool list, the revealed seed and the
    published commitment; compare with the published drawn list if given.

    ``pool_file``: ``{"groups": {group: {"sample": n, "pool": [pseudonyms]}}}`` (the file
    written at commit). ``drawn``: ``{group: [[round 1 pseudonyms], [round 2 …], …]}``.
    """
    problems: list[str] = []
    groups = pool_file.get("groups", {})
    pools = {g: v.get("pool", []) for g, v in groups.items()}
    try:
        bytes.fromhex(seed)
    except ValueError:
        return Verification(False, ["the seed is not a hexadecimal string"])
    digest = pool_digest(pools)
    if pool_file.get("pool_digest") not in (None, digest):
        problems.append(f"the pool list does not match its own pool_digest ({pool_file.get('pool_digest')} "
                        f"published, {digest} recomputed): the pool list was changed")
    if commitment(seed, digest) != commit.strip().lower():
        problems.append("the commitment does not match this seed and pool list: the seed or the pool was changed")
    out: dict[str, list[list[str]]] = {}
    for g, v in sorted(groups.items()):
        sizes = [int(v.get("sample") or 0)]
        if drawn is not None and g in drawn:
            sizes += [len(r) for r in list(drawn[g])[1:]]
        out[g] = rounds(seed, pools[g], sizes)
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
    return Verification(not problems, problems, out)
