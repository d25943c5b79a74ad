"""The machine-readable export: one row per ballot, anonymous, with a JSON Schema that
labels every code (``minping report … --format data``).

* Columns: ``row`` (a number, rows in random order: not the order of submission),
  ``group`` (the rater group's key), then one column per evaluee and dimension,
  ``<evaluee>.<dimension>``, holding a scale level's key, ``dont_know`` (不了解), ``""``
  (the ballot does not rate this evaluee), or ``suppressed``.
* ``suppressed``: the ballot's group has fewer than ``min_group_size`` ballots for that
  evaluee; its answers there are withheld, as everywhere else, since so few raters could
  be recognised by their answers. The figures in the report count them all; this file
  then does not recount them exactly, and the schema says so.
* No ballot id, no chain position, no opinion text, nothing about a person.

The schema (JSON Schema 2020-12) describes one row: every column with its title in each
of the campaign's languages, and each code with its label, points and whether it counts
as satisfied.
"""

from __future__ import annotations

import csv
import io
import json
import secrets

from sqlmodel import Session

from flows.campaign import Campaign
from reports import tally
from storage import ballots

DONT_KNOW, NOT_RATED, SUPPRESSED = "dont_know", "", "suppressed"


def columns(campaign: Campaign) -> list[tuple[str, str, str]]:
    """(column, evaluee key, dimension key) of the answer columns, campaign order."""
    return [(f"{e.key}.{d.key}", e.key, d.key) for e in campaign.evaluees for d in campaign.dimensions]


def rows(session: Session, campaign: Campaign) -> list[dict[str, object]]:
    """Every ballot as a row (random order); refuses a sealed open campaign (``tally.Sealed``)."""
    result = tally.results(session, campaign)  # the same gate as every other export
    data = ballots.load_chain(session, campaign.id)
    small = {(g, e) for e, r in result.evaluees.items() for g, part in r.groups.items()
             if part.ballots < campaign.min_group_size}
    cols = columns(campaign)
    out = []
    for ballot_id, group, *_ in data.ballots:
        answers = data.answers.get(ballot_id, {})
        row: dict[str, object] = {"group": group}
        for name, e, d in cols:
            if e not in answers:
                row[name] = NOT_RATED
            elif (group, e) in small:
                row[name] = SUPPRESSED
            else:
                option = answers[e].get(d)
                row[name] = DONT_KNOW if option is None else option
        out.append(row)
    secrets.SystemRandom().shuffle(out)  # never the chain's (submission) order
    return [{"row": i, **r} for i, r in enumerate(out, 1)]


def to_csv(campaign: Campaign, table: list[dict[str, object]]) -> bytes:
    buf = io.StringIO()
    fields = ["row", "group", *[c for c, _, _ in columns(campaign)]]
    w = csv.DictWriter(buf, fields, lineterminator="\n")
    w.writeheader()
    w.writerows(table)
    return buf.getvalue().encode("utf-8")


def _titles(campaign: Campaign, text) -> dict[str, str]:  # noqa: ANN001
    return {loc: campaign.text(text, loc) for loc in campaign.locales}


def schema(campaign: Campaign) -> dict:
    """JSON Schema of one row, with the codebook."""
    def title(text) -> str:  # noqa: ANN001
        return " / ".join(dict.fromkeys(_titles(campaign, text).values()))

    levels = [{"const": o.key, "title": title(o.label), "x-points": o.points, "x-satisfied": o.satisfied}
              for o in campaign.scale]
    levels += [{"const": DONT_KNOW, "title": title(campaign.dont_know), "x-points": None, "x-satisfied": None},
               {"const": NOT_RATED, "title": "未评此对象 / not rated (the ballot's group does not rate this evaluee)"},
               {"const": SUPPRESSED,
                "title": f"已隐去 / withheld (fewer than {campaign.min_group_size} ballots of this group for this evaluee)"}]
    props: dict[str, dict] = {
        "row": {"type": "integer", "minimum": 1, "description": "row number; rows are in random order"},
        "group": {"type": "string", "description": "rater group",
                  "oneOf": [{"const": g.key, "title": title(g.label), "x-weight": g.weight} for g in campaign.rater_groups]},
    }
    for name, e, d in columns(campaign):
        ev, dim = campaign.evaluee(e), next(x for x in campaign.dimensions if x.key == d)
        props[name] = {"title": f"{title(ev.name)} · {title(dim.label)}", "$ref": "#/$defs/answer"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"minping:{campaign.id}:ballots",
        "title": f"{title(campaign.title)} — ballots",
        "description": ("One row per ballot, anonymous: no ballot id, no order of submission, no opinion. Answers of a "
                        f"rater group with fewer than {campaign.min_group_size} ballots for an evaluee are 'suppressed'; "
                        "the published figures count them, so a recount from this file can differ there."),
        "type": "object",
        "$defs": {"answer": {"type": "string", "oneOf": levels}},
        "properties": props,
        "required": list(props),
        "additionalProperties": False,
    }


def export(session: Session, campaign: Campaign) -> tuple[bytes, bytes]:
    """(ballots csv, schema json)."""
    table = rows(session, campaign)
    return to_csv(campaign, table), json.dumps(schema(campaign), ensure_ascii=False, indent=2).encode("utf-8")
