#!/usr/bin/env python3
"""Check a minping verification kit yourself (民评检验包：自行核对).

    python3 verify_kit.py [KIT_DIRECTORY] [--beacon-value "03 07 12 19 25 31 + 09"]

This one file, using only Python's standard library, recomputes from the files of the
kit, and from nothing else:

1. the draw of raters: the commitment published before the draw, the draw seed made
   from the committed seed and the result of the public draw (lottery) named with the
   commitment, and every drawn list from the published pools;
2. the ballot chain: every ballot's SHA-256 hash and its link to the one before, up
   to the chain head and count recorded when the campaign was closed;
3. the counts: ballots per rater group against the raters marked as having submitted,
   follow-up answers against the raters marked as having answered;
4. every published figure: satisfaction rates and their intervals, the weighted
   scores, the totals and the ranks.

It prints MATCH (exit code 0), or each difference found (exit code 1); exit code 2
("CANNOT CHECK") when the kit cannot be read or is malformed (a file missing, not JSON,
a key twice in one object, a value of the wrong kind). It never connects to anything.

MATCH means: the kit is consistent with itself. It cannot tell whether the kit is the
one published, nor whether the campaign file is the one announced. So it ends, always,
with the ANCHORS: the values to compare with what was announced outside the kit: the
commitment (announced before the draw), the public draw's name and result (the
lottery's own announcement), the chain head and count (announced at close), and the
SHA-256 of campaign.json and of campaign.yaml (compare with the campaign file announced
with the campaign). The kit's own dates (committed_at, closed_at) are what the kit says,
not proof of when anything happened: the proof is the date of those announcements.

Its limits, besides: campaign.yaml is YAML, which the standard library cannot read, so
campaign.json (the file the figures are recomputed from) is checked against it only by
text: the campaign id, the evaluees' and rater groups' keys, each group's weight and
sample, min_group_size. Scale points, dimensions, units and scoring rules are not
compared that way: compare the SHA-256 anchors. The size of a replacement round (one per
non-responder of the round before) is taken from the drawn list: ballots are anonymous,
so the kit cannot show who did not respond. Ballots of a sampled rater group with no
draw in the kit are a difference, even if they came through after-service links (which
need no draw): ballots do not say how their rater was enrolled.
"""

import argparse
import hashlib
import hmac
import json
import math
import re
import sys
import unicodedata
from pathlib import Path

TOLERANCE = 1e-9  # figures are compared as numbers, to this (relative and absolute) tolerance
Z95 = 1.959963984540054  # normal quantile of 0.975: the 95% Wilson interval
MIN_GROUP_SIZE_DEFAULT = 5  # minping's min_group_size when the campaign file does not set it


class Unreadable(Exception):
    """A file of the kit is missing or is not what it should be."""


# --- reading the kit -----------------------------------------------------------------------
# Strict JSON: a key given twice in one object is refused (JSON readers disagree on which
# one counts, so a kit could show one value to one reader and another to the next), and
# so are NaN and Infinity, which are not JSON.
def _object(pairs):
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise Unreadable(f"the key {key!r} appears twice in one object")
        obj[key] = value
    return obj


def _not_a_number(name):
    raise Unreadable(f"{name} is not a JSON number")


def parse(text, where):
    try:
        return json.loads(text, object_pairs_hook=_object, parse_constant=_not_a_number)
    except Unreadable as exc:
        raise Unreadable(f"{where}: {exc}") from None
    except RecursionError:
        raise Unreadable(f"{where} is nested too deeply") from None
    except ValueError as exc:  # json.JSONDecodeError, or a number too long to read
        raise Unreadable(f"{where} is not JSON ({exc})") from None


def read_text(kit, name):
    try:
        return (kit / name).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise Unreadable(f"{name} is missing") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise Unreadable(f"{name} cannot be read ({exc})") from None


def read_json(kit, name):
    return parse(read_text(kit, name), name)


def read_lines(kit, name):
    out = []
    for number, line in enumerate(read_text(kit, name).splitlines(), 1):
        if line.strip():
            out.append(parse(line, f"{name} line {number}"))
    return out


def file_sha256(kit, name):
    try:
        return hashlib.sha256((kit / name).read_bytes()).hexdigest()
    except OSError as exc:
        return f"(cannot be read: {exc.strerror or exc})"


def sha256(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- 1. the draw ----------------------------------------------------------------------------
# The published procedure (also written in the pool list):
#   pool_digest = SHA-256 of the canonical JSON of {group: sorted pseudonyms}
#   commitment  = SHA-256(seed + "\n" + pool_digest + "\n" + public draw's name)
#                 (a draw committed without a public draw: SHA-256(seed + "\n" + pool_digest))
#   draw seed   = SHA-256(seed + "\n" + canonical result of the public draw)
#                 (without a public draw: the seed itself)
#   each group's pseudonyms in the order of HMAC-SHA256(key = draw seed, message =
#   pseudonym), ties by pseudonym; round 1 = the first `sample`, each replacement round
#   the next ones.

NUMBERS = re.compile(r"[0-9]+(?:[\s,、;]+[0-9]+)*", re.ASCII)


def canonical_beacon(value):
    """The public draw's result in canonical form (RFC 3797 style): "03 07 12 19 25 31 + 09"
    and "31,25,19,12,7,3+9" both give "3.7.12.19.25.31./9./". Groups split at '+', '|' or
    '/'; a group of whole numbers: ascending, no leading zeros, each followed by '.', the
    group by '/'. Anything else is taken as text: lower case, spaces collapsed."""
    text = unicodedata.normalize("NFKC", value).strip()
    if not text:
        raise ValueError("the value of the public draw is empty")
    groups = [g.strip() for g in re.split(r"[+|/]", text)]
    if all(NUMBERS.fullmatch(g) for g in groups):
        return "".join("".join(f"{n}." for n in sorted(int(x) for x in re.split(r"[\s,、;]+", g))) + "/"
                       for g in groups)
    return " ".join(text.lower().split())


SHAPE = re.compile(r"\[(text|[1-9][0-9]?(?:\+[1-9][0-9]?){0,9})\]$")


def shape_problem(beacon, value):
    """The public draw's name may end with the shape of its result, bound by the
    commitment ("[6+1]": six numbers, then one; "[text]"): the result must be written in
    it, so that it has one spelling (one draw seed). Why ``value`` is not, or None."""
    m = SHAPE.search(beacon.strip())
    if m is None or m.group(1) == "text":
        return None
    shape = [int(n) for n in m.group(1).split("+")]
    groups = [g.strip() for g in re.split(r"[+|/]", unicodedata.normalize("NFKC", value).strip())]
    sizes = [len(re.split(r"[\s,、;]+", g)) if NUMBERS.fullmatch(g) else 0 for g in groups]
    if sizes != shape:
        return f"the result {value!r} is not written in the shape [{m.group(1)}] the commitment named"
    return None


def pool_digest(pools):
    canonical = {g: sorted(set(p)) for g, p in sorted(pools.items())}
    blob = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def commitment(seed, digest, beacon):
    if beacon is None:
        return sha256(f"{seed}\n{digest}")
    return sha256(f"{seed}\n{digest}\n{beacon}")


def draw_order(draw_seed, pool):
    key = bytes.fromhex(draw_seed)
    return sorted(set(pool), key=lambda p: (hmac.new(key, p.encode(), hashlib.sha256).hexdigest(), p))


def own_unit(evaluee):
    if evaluee.get("unit"):
        return evaluee["unit"]
    return evaluee["key"] if evaluee.get("kind", "unit") == "unit" else None


def sampled_groups(campaign):
    return [g["key"] for g in campaign["rater_groups"] if not g.get("open") and g.get("sample")]


def strata(campaign):
    """{stratum: sample} as the draw makes them from the campaign file: one stratum per
    sampled rater group; a group rating only its own unit (rates: own_unit) is drawn per
    unit, stratum "group/unit", its sample split in equal shares, the remainder one each
    to the first units in the campaign file's order."""
    units = []
    for e in campaign["evaluees"]:
        if own_unit(e) and own_unit(e) not in units:
            units.append(own_unit(e))
    out = {}
    for g in campaign["rater_groups"]:
        if g.get("open") or not g.get("sample"):
            continue
        if g.get("rates", "all") == "own_unit":
            base, extra = divmod(int(g["sample"]), len(units)) if units else (0, 0)
            for i, u in enumerate(units):
                out[f"{g['key']}/{u}"] = base + (1 if i < extra else 0)
        else:
            out[g["key"]] = int(g["sample"])
    return out


def check_draw(kit, campaign, ballots, own_value, out, notes):
    sampled = sampled_groups(campaign)
    cast = sum(1 for b in ballots if b.get("group") in sampled)
    has_pool, has_drawn = (kit / "draw" / "pool.json").exists(), (kit / "draw" / "drawn.json").exists()
    if not has_pool:
        if has_drawn:
            out.append("draw: draw/drawn.json is there but draw/pool.json (the commitment) is missing")
        elif cast:
            out.append(f"draw: draw/pool.json and draw/drawn.json are missing, but the campaign file's sampled "
                       f"rater groups ({', '.join(sampled)}) cast {cast} ballot(s): their draw must be in the kit")
        else:
            notes.append("draw: no draw in the kit and no ballot of a sampled rater group: nobody was drawn")
        return
    pool_file = read_json(kit, "draw/pool.json")
    groups = pool_file.get("groups") or {}
    pools = {g: v.get("pool", []) for g, v in groups.items()}
    beacon = pool_file.get("beacon")
    digest = pool_digest(pools)
    if digest != pool_file.get("pool_digest"):
        out.append(f"draw: the pools do not give their published pool digest ({pool_file.get('pool_digest')}); "
                   f"recomputed {digest}: a pool was changed")
    # The strata and their samples follow from the campaign file, not from the pool list.
    expected = strata(campaign)
    for name in sorted(set(expected) | set(groups)):
        if name not in groups:
            out.append(f"draw: the campaign file draws {name} (sample {expected[name]}) but the pool list has no "
                       "such group")
        elif name not in expected:
            out.append(f"draw: the pool list has a group {name} that the campaign file does not draw")
        elif groups[name].get("sample") != expected[name]:
            out.append(f"draw: the pool list gives {name} a sample of {groups[name].get('sample')!r}; the campaign "
                       f"file's sample gives {expected[name]}")
    if not has_drawn:
        if cast:
            out.append(f"draw: draw/drawn.json is missing, but the sampled rater groups cast {cast} ballot(s): "
                       "the draw that chose them must be in the kit")
        else:
            notes.append("draw: committed but never revealed, and no ballot of a sampled rater group: "
                         "nobody was drawn")
        return
    drawn_file = read_json(kit, "draw/drawn.json")
    seed = str(drawn_file.get("seed", ""))
    if drawn_file.get("commitment") != pool_file.get("commitment"):
        out.append("draw: the drawn list and the pool list give different commitments")
    try:
        bytes.fromhex(seed)
    except ValueError:
        out.append("draw: the revealed seed is not hexadecimal")
        return
    if commitment(seed, digest, beacon) != pool_file.get("commitment"):
        out.append("draw: the commitment does not match the revealed seed, the pools"
                   + (" and the public draw named" if beacon is not None else "")
                   + ": the seed, a pool or the public draw's name was changed")
    if beacon is None:
        draw_seed = seed
        notes.append("draw: committed WITHOUT a public draw: the seed alone decided the sample, so whoever made "
                     "the seed could have chosen it")
    else:
        value = drawn_file.get("beacon_value")
        if own_value is not None:
            if value is not None and canonical_beacon(own_value) != canonical_beacon(str(value)):
                out.append(f"draw: the kit gives the result of «{beacon}» as {value!r}; you entered {own_value!r}")
            value = own_value
        if value is None:
            out.append(f"draw: the kit does not give the result of «{beacon}»; pass it with --beacon-value")
            return
        if (wrong := shape_problem(beacon, str(value))) is not None:
            out.append(f"draw: {wrong}")
            return
        try:
            canonical = canonical_beacon(str(value))
        except ValueError as exc:
            out.append(f"draw: {exc}")
            return
        draw_seed = sha256(f"{seed}\n{canonical}")
        notes.append(f"draw: public draw «{beacon}» = {value} (canonical {canonical})"
                     + ("" if own_value is not None else ": check this result against the lottery's announcement, "
                        "or give it yourself with --beacon-value"))
        notes.append(f"draw: the kit says the commitment was made at {pool_file.get('committed_at')}; that is the "
                     "kit's own claim, not proof: the commitment must have been announced before the public draw "
                     "took place")
    if drawn_file.get("draw_seed") != draw_seed:
        out.append(f"draw: the draw seed is {draw_seed}, the kit says {drawn_file.get('draw_seed')}")
    published = drawn_file.get("drawn") or {}
    for g in sorted(groups):
        rounds = published.get(g, [])
        first = expected[g] if g in expected else int(groups[g].get("sample") or 0)
        sizes = [first] + [len(r) for r in rounds[1:]]  # replacement rounds: as many as the drawn list gives
        ordered, at = draw_order(draw_seed, pools[g]), 0
        for number, size in enumerate(sizes, 1):
            mine = set(ordered[at:at + size])
            at += size
            theirs = set(rounds[number - 1]) if number <= len(rounds) else set()
            if mine != theirs:
                out.append(f"draw: group {g}, round {number}: should be drawn but are not: "
                           f"{', '.join(sorted(mine - theirs)) or 'none'}; drawn but should not be: "
                           f"{', '.join(sorted(theirs - mine)) or 'none'}")
    for g in sorted(set(published) - set(groups)):
        out.append(f"draw: group {g} is in the drawn list but has no pool")
    for w in pool_file.get("withdrawn") or []:
        if commitment(w.get("seed", ""), w.get("pool_digest", ""), w.get("beacon")) != w.get("commitment"):
            out.append(f"draw: the withdrawn commitment {w.get('commitment')} does not match its published seed")


# --- 2. the ballot chain ----------------------------------------------------------------------
# hash of a ballot = SHA-256(previous hash + "\n" + canonical content); the first ballot's
# previous hash is SHA-256("minping-genesis:" + campaign id). The canonical content is the
# JSON below, keys sorted, no spaces, non-ASCII as is; answers as sorted [evaluee,
# dimension, option] (option null = 不了解); opinions as sorted [evaluee, SHA-256 of text].

def canonical_ballot(ballot, campaign_id):
    answers = ballot.get("answers") or {}
    content = {
        "ballot": ballot.get("ballot"),
        "campaign": campaign_id,
        "group": ballot.get("group"),
        "answers": sorted([e, d, o] for e, dims in answers.items() for d, o in dims.items()),
        "opinions": sorted([e, h] for e, h in (ballot.get("opinions") or {}).items()),
    }
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def check_chain(campaign, ballots, chain, out, notes):
    cid = campaign["id"]
    if chain.get("chain_version") != 2:
        out.append(f"chain: version {chain.get('chain_version')} cannot be checked from a kit (version 2 only)")
        return
    prev = sha256(f"minping-genesis:{cid}")
    groups = {g["key"] for g in campaign["rater_groups"]}
    evaluees = {e["key"] for e in campaign["evaluees"]}
    dimensions = {d["key"] for d in campaign["dimensions"]}
    options = {o["key"] for o in campaign["scale"]}
    seen = set()
    for position, b in enumerate(ballots, 1):
        where = f"chain: ballot {position} ({b.get('ballot')})"
        if b.get("seq") != position:
            out.append(f"{where}: numbered {b.get('seq')}, expected {position} (a ballot missing or inserted)")
        if b.get("prev_hash") != prev:
            out.append(f"{where}: its link to the ballot before is broken (a ballot missing, inserted or moved)")
        if sha256(f"{b.get('prev_hash')}\n{canonical_ballot(b, cid)}") != b.get("hash"):
            out.append(f"{where}: its content does not match its hash (altered)")
        if b.get("ballot") in seen:
            out.append(f"{where}: the same ballot id appears twice")
        seen.add(b.get("ballot"))
        if b.get("group") not in groups:
            out.append(f"{where}: unknown rater group {b.get('group')!r}")
        for e, dims in (b.get("answers") or {}).items():
            for d, o in dims.items():
                if e not in evaluees or d not in dimensions or (o is not None and o not in options):
                    out.append(f"{where}: an answer outside the campaign file: {e}/{d} = {o!r}")
        prev = b.get("hash")
    if len(ballots) != chain.get("count"):
        out.append(f"chain: {len(ballots)} ballots in ballots.jsonl, {chain.get('count')} recorded at close")
    if prev != chain.get("head"):
        out.append(f"chain: the last ballot's hash {prev} is not the head recorded at close ({chain.get('head')})")
    notes.append(f"chain: {len(ballots)} ballots; head recorded at close {chain.get('head')} "
                 f"(compare with the head announced at close)")


# --- 3. the counts ----------------------------------------------------------------------------
def check_counts(ballots, followups, counts, out):
    cast = {}
    for b in ballots:
        cast[b.get("group")] = cast.get(b.get("group"), 0) + 1
    marked = counts.get("submitted_by_group") or {}
    for g in sorted(set(cast) | set(marked)):
        if cast.get(g, 0) != marked.get(g, 0):
            out.append(f"counts: rater group {g}: {cast.get(g, 0)} ballots, {marked.get(g, 0)} raters marked as "
                       "having submitted")
    answers = {}
    for f in followups:
        key = (f.get("evaluee"), f.get("round"))
        answers[key] = answers.get(key, 0) + 1
    answered = {(r["evaluee"], r["round"]): r["answered"] for r in counts.get("followup_answered") or []}
    for key in sorted(set(answers) | set(answered), key=str):
        if answers.get(key, 0) != answered.get(key, 0):
            out.append(f"counts: follow-up of {key[0]} round {key[1]}: {answers.get(key, 0)} answers, "
                       f"{answered.get(key, 0)} raters marked as having answered")


def check_followup_rounds(followups, counts, published_rounds, out):
    """The follow-up rounds published.json must give with a rate: every round with
    answers (in followups.jsonl or marked in counts.json), and no round counts.json does
    not list. The kit holds the answers of those rounds only (survey closed, at least
    min_group_size valid answers); the others' answers stay out of it."""
    listed = {(r["evaluee"], r["round"]): r["answered"] for r in counts.get("followup_answered") or []}
    answers = {}
    for f in followups:
        key = (f.get("evaluee"), f.get("round"))
        answers[key] = answers.get(key, 0) + 1
    # The kit holds the answers (and counts) of the rounds whose rate is published only;
    # a closed round with too few valid answers is in published.json without a rate.
    shown = {(r.get("evaluee"), r.get("round")) for r in published_rounds if r.get("published")}
    expected = {key for key, n in listed.items() if n} | set(answers)
    for evaluee, number in sorted(expected - shown, key=str):
        out.append(f"figures: the follow-up of {evaluee} round {number} has "
                   f"{max(answers.get((evaluee, number), 0), listed.get((evaluee, number), 0))} answer(s) but is not "
                   "in published.json (removed from it, or the kit was made before its survey closed)")
    for evaluee, number in sorted(shown - set(listed), key=str):
        out.append(f"figures: published.json gives a follow-up of {evaluee} round {number}, a round counts.json "
                   "does not list")


def check_campaign_text(campaign, text, out):
    """A light check of campaign.json (what the figures are recomputed from) against the
    text of campaign.yaml (the campaign file as written), without a YAML reader: the
    campaign id, each evaluee's and rater group's key, each group's weight and sample,
    and min_group_size must be written there. Only these; see the SHA-256 anchors."""
    text = re.sub(r"(^|\s)#.*", r"\1", text)  # comments out
    key = r"(?<![\w-])key:\s*[\"']?{}[\"']?(?![\w-])"
    top = re.compile(r"^[^\s#-]", re.M)  # a line starting a new top-level entry
    if not re.search(r"^id:\s*[\"']?" + re.escape(campaign["id"]) + r"[\"']?\s*$", text, re.M):
        out.append(f"campaign: campaign.yaml does not give the id {campaign['id']!r} of campaign.json")
    for e in campaign["evaluees"]:
        if not re.search(key.format(re.escape(e["key"])), text):
            out.append(f"campaign: evaluee {e['key']!r} of campaign.json is not in campaign.yaml")
    start = re.search(r"^rater_groups:", text, re.M)
    section = ""
    if start:
        end = top.search(text, start.end())
        section = text[start.end():end.start() if end else len(text)]
    for g in campaign["rater_groups"]:
        found = re.search(key.format(re.escape(g["key"])), section)
        if not found:
            out.append(f"campaign: rater group {g['key']!r} of campaign.json is not in campaign.yaml's rater_groups")
            continue
        after = re.search(r"(?<![\w-])key:", section[found.end():])
        entry = section[found.end():found.end() + after.start() if after else len(section)]
        weight = re.search(r"(?<![\w-])weight:\s*([0-9][0-9_.eE+-]*)", entry)
        if weight is None or not same(float(weight.group(1)), g["weight"]):
            out.append(f"campaign: rater group {g['key']}: campaign.json gives weight {g['weight']}, campaign.yaml "
                       f"{weight.group(1) if weight else 'none'}")
        sample = re.search(r"(?<![\w-])sample:\s*([0-9]+)", entry)
        if (int(sample.group(1)) if sample else None) != g.get("sample"):
            out.append(f"campaign: rater group {g['key']}: campaign.json gives sample {g.get('sample')}, "
                       f"campaign.yaml {sample.group(1) if sample else 'none'}")
    minimum = re.search(r"^min_group_size:\s*([0-9]+)", text, re.M)
    if (int(minimum.group(1)) if minimum else MIN_GROUP_SIZE_DEFAULT) != campaign["min_group_size"]:
        out.append(f"campaign: campaign.json gives min_group_size {campaign['min_group_size']}, campaign.yaml "
                   + (minimum.group(1) if minimum else f"none (minping's default: {MIN_GROUP_SIZE_DEFAULT})"))


# --- 4. the published figures ----------------------------------------------------------------
# Seed 004's rules as the campaign file sets them: each rater group's part of an
# evaluee's score = its weight × its mean points / 100, the mean over all its valid
# answers (不了解 left out). A group with fewer than min_group_size ballots with a valid
# answer for the evaluee does not vote, its weight goes to the voting groups in
# proportion; no voting group, no score. Total = democratic + daily (base minus
# deductions, not below 0) + bonus (the highest award). Rank within the category: 1 +
# the number of totals higher when both are rounded to 2 decimals. Satisfaction rate =
# answers on levels marked satisfied ÷ valid answers, with a Wilson 95% interval.
# Published: the voting groups' figures only; pooled rates pool the voting groups.

def wilson(k, n):
    if n == 0:
        return None, None
    root = Z95 * math.sqrt(Z95 * Z95 + 4 * k * (n - k) / n)
    low = (2 * k + Z95 * Z95 - root) / (2 * (n + Z95 * Z95))
    high = (2 * k + Z95 * Z95 + root) / (2 * (n + Z95 * Z95))
    return max(low, 0.0), min(high, 1.0)


def rate(satisfied, valid):
    low, high = wilson(satisfied, valid)
    return {"valid": valid, "satisfied": satisfied, "rate": satisfied / valid if valid else None,
            "low": low, "high": high}


def recompute(campaign, ballots, events, followups, published_rounds):
    points = {o["key"]: o["points"] for o in campaign["scale"]}
    good = {o["key"] for o in campaign["scale"] if o.get("satisfied")}
    dims = [d["key"] for d in campaign["dimensions"]]
    minimum = campaign["min_group_size"]
    # (evaluee, group) -> [ballots with a valid answer, {dimension: {option: answers}}]
    cells = {}
    for b in ballots:
        for e, answers in (b.get("answers") or {}).items():
            cell = cells.setdefault((e, b.get("group")), [0, {}])
            if any(o is not None for o in answers.values()):
                cell[0] += 1
            for d, o in answers.items():
                per = cell[1].setdefault(d, {})
                per[o] = per.get(o, 0) + 1
    evaluees = {}
    for e in campaign["evaluees"]:
        rating = [g for g in campaign["rater_groups"] if g.get("rates", "all") == "all" or own_unit(e) is not None]
        voting = [g for g in rating if cells.get((e["key"], g["key"]), [0, {}])[0] >= minimum]
        full = sum(g["weight"] for g in rating)
        share = sum(g["weight"] for g in voting)
        groups, pooled = {}, {d: [0, 0] for d in dims}
        for g in rating:
            if g not in voting:
                groups[g["key"]] = {"votes": False, "weight": g["weight"]}
                continue
            n_ballots, per_dim = cells[(e["key"], g["key"])]
            total_points = valid_answers = 0
            figures = {}
            for d in dims:
                per = per_dim.get(d, {})
                valid = sum(n for o, n in per.items() if o is not None)
                satisfied = sum(n for o, n in per.items() if o in good)
                total_points += sum(points.get(o, 0) * n for o, n in per.items() if o is not None)
                valid_answers += valid
                figures[d] = rate(satisfied, valid)
                pooled[d][0] += satisfied
                pooled[d][1] += valid
            mean = total_points / valid_answers if valid_answers else None
            # all voting groups of weight 0 (allowed): no weight to share, every score 0 (as reports/tally.py)
            effective = g["weight"] * full / share if share else 0.0
            groups[g["key"]] = {"votes": True, "weight": g["weight"], "effective_weight": effective,
                                "ballots": n_ballots, "mean_points": mean,
                                "score": effective * mean / 100 if mean is not None else 0.0, "dimensions": figures}
        scored = bool(voting)
        deducted = sum(x["points"] for x in events if x["evaluee"] == e["key"] and x["kind"] == "deduction")
        awards = [x["points"] for x in events if x["evaluee"] == e["key"] and x["kind"] == "bonus"]
        democratic = sum(p.get("score", 0.0) for p in groups.values()) if scored else None
        daily = max(0.0, campaign["scoring"]["daily_base"] - deducted)
        bonus = max(awards) if awards else 0.0
        evaluees[e["key"]] = {"category": e["category"], "scored": scored, "rank": None, "of": 0,
                              "total": democratic + daily + bonus if scored else None, "democratic": democratic,
                              "daily": daily, "bonus": bonus, "groups": groups,
                              "dimensions": {d: rate(*pooled[d]) for d in dims} if scored else {}}
    categories = {}
    for cat in campaign["categories"]:
        members = [k for k, v in evaluees.items() if v["category"] == cat["key"]]
        scored = [k for k in members if evaluees[k]["scored"]]
        for k in members:
            evaluees[k]["of"] = len(scored)
            if evaluees[k]["scored"]:
                mine = round(evaluees[k]["total"], 2)
                evaluees[k]["rank"] = 1 + sum(1 for m in scored if round(evaluees[m]["total"], 2) > mine)
        ranking = sorted(scored, key=lambda k: evaluees[k]["rank"])
        rates = {}
        for d in dims:
            rates[d] = rate(sum(evaluees[k]["dimensions"][d]["satisfied"] for k in ranking),
                            sum(evaluees[k]["dimensions"][d]["valid"] for k in ranking))
        categories[cat["key"]] = {"ranking": ranking, "not_scored": [k for k in members if k not in scored],
                                  "rates": rates}
    rounds = []
    for r in sorted(published_rounds, key=lambda r: (str(r.get("evaluee")), r.get("round") or 0)):
        answers = [f.get("option") for f in followups if (f.get("evaluee"), f.get("round")) == (r.get("evaluee"),
                                                                                                r.get("round"))]
        valid = sum(1 for o in answers if o is not None)
        satisfied = sum(1 for o in answers if o in good)
        shown = valid >= minimum
        rounds.append({"evaluee": r.get("evaluee"), "round": r.get("round"), "published": shown,
                       **(rate(satisfied, valid) if shown else {})})
    return {"version": 1, "campaign": campaign["id"], "min_group_size": minimum, "ballots": len(ballots),
            "evaluees": evaluees, "categories": categories, "followup": rounds}


def same(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=TOLERANCE)
    return a == b


def compare(published, recomputed, where, out):
    """Every figure of ``published`` against ``recomputed``; counts the figures compared."""
    if isinstance(published, dict) and isinstance(recomputed, dict):
        n = 0
        for key in sorted(set(published) | set(recomputed), key=str):
            here = f"{where}.{key}" if where else str(key)
            if key not in recomputed:
                out.append(f"figures: {here} is published ({published[key]!r}) but is no figure of the campaign")
            elif key not in published:
                out.append(f"figures: {here} is missing from the published figures (recomputed {recomputed[key]!r})")
            else:
                n += compare(published[key], recomputed[key], here, out)
        return n
    if isinstance(published, list) and isinstance(recomputed, list) and len(published) == len(recomputed):
        return sum(compare(p, r, f"{where}[{i}]", out) for i, (p, r) in enumerate(zip(published, recomputed)))
    if not same(published, recomputed):
        out.append(f"figures: {where}: published {published!r}, recomputed {recomputed!r}")
    return 1


# --- all of it -----------------------------------------------------------------------------
def verify(kit, own_value=None):
    """(differences, notes) for the kit in directory ``kit``. Raises Unreadable."""
    out, notes = [], []
    campaign = read_json(kit, "campaign.json")
    campaign_text = read_text(kit, "campaign.yaml")
    ballots = read_lines(kit, "ballots.jsonl")
    followups = read_lines(kit, "followups.jsonl")
    chain = read_json(kit, "chain.json")
    counts = read_json(kit, "counts.json")
    events = read_json(kit, "score_events.json")
    published = read_json(kit, "published.json")
    check_campaign_text(campaign, campaign_text, out)
    check_draw(kit, campaign, ballots, own_value, out, notes)
    check_chain(campaign, ballots, chain, out, notes)
    check_counts(ballots, followups, counts, out)
    check_followup_rounds(followups, counts, published.get("followup") or [], out)
    n = compare(published, recompute(campaign, ballots, events, followups, published.get("followup") or []), "", out)
    notes.append(f"figures: {n} published figures recomputed from the ballots")
    return out, notes


def anchors(kit, own_value=None):
    """The values to compare with what was announced outside the kit, as lines."""
    def get(name, *path):
        try:
            value = read_json(kit, name)
            for key in path:
                value = value[key]
            return value
        except Exception:  # noqa: BLE001 (an anchor that cannot be read is shown as such)
            return None

    lines = []
    if (kit / "draw" / "pool.json").exists():
        lines.append(f"commitment (announced before the draw): {get('draw/pool.json', 'commitment')}")
        beacon = get("draw/pool.json", "beacon")
        value = own_value if own_value is not None else get("draw/drawn.json", "beacon_value")
        value = "(not in the kit)" if value is None else value
        lines.append(f"public draw (the lottery's announcement): «{beacon}» = {value}" if beacon is not None
                     else "public draw: none was named (the seed alone decided the sample)")
    else:
        lines.append("commitment: none in the kit (no draw)")
    lines.append(f"chain head at close: {get('chain.json', 'head')}, count {get('chain.json', 'count')}")
    lines.append(f"SHA-256 of campaign.json: {file_sha256(kit, 'campaign.json')}")
    lines.append(f"SHA-256 of campaign.yaml: {file_sha256(kit, 'campaign.yaml')}")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description="Check a minping verification kit (standard library only).")
    parser.add_argument("kit", nargs="?", default=str(Path(__file__).resolve().parent),
                        help="the kit's directory (default: the directory of this file)")
    parser.add_argument("--beacon-value", help="the public draw's result as you read it from its announcement "
                                               "(default: as the kit gives it)")
    args = parser.parse_args(argv)
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")  # a console that cannot show «» or Chinese
    kit = Path(args.kit)
    try:
        differences, notes = verify(kit, args.beacon_value)
    except Unreadable as exc:
        print(f"CANNOT CHECK: kit malformed or incomplete: {exc}")
        code = 2
    except Exception as exc:  # noqa: BLE001 (anything unforeseen in a file: said plainly, never a traceback)
        print(f"CANNOT CHECK: kit malformed: {type(exc).__name__}: {str(exc)[:300] or 'no detail'} "
              "(a file of the kit holds something that is not what it should be)")
        code = 2
    else:
        for line in notes:
            print(line)
        for line in differences:
            print(f"DIFFERENCE: {line}")
        if differences:
            print(f"{len(differences)} difference(s): the kit does not check out")
            code = 1
        else:
            print("MATCH: the draw, the ballot chain, the counts and every published figure are consistent "
                  "with each other")
            code = 0
    print("ANCHORS: MATCH means only that the kit is consistent with itself. Compare each value below with "
          "what was announced outside the kit (before the draw, by the lottery, at close, with the campaign):")
    for line in anchors(kit, args.beacon_value):
        print(f"  {line}")
    return code


if __name__ == "__main__":
    sys.exit(main())
