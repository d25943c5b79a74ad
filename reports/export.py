"""Exports of the results: CSV, XLSX (openpyxl) and a self-contained HTML report with
the charts embedded as base64 PNGs. Callers get ``reports.tally.Sealed`` for a sealed
campaign that is still open: nothing per evaluee leaves before close."""

from __future__ import annotations

import base64
import csv
import io
from datetime import UTC, datetime
from html import escape

from sqlmodel import Session

from flows.campaign import Campaign
from reports import charts, tally
from reports import rectification as rect
from reports.results import Tally
from storage.status import group_progress

FORMATS = ("csv", "xlsx", "html")


def _pct(x: float | None) -> float | None:
    return None if x is None else round(100 * x, 2)


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def table(campaign: Campaign, result: Tally, locale: str = "zh") -> tuple[list[str], list[list]]:
    """The full table, one row per evaluee, ranked within category."""
    head = ["category", "rank", "of", "evaluee", "name", "total", "democratic", "daily", "bonus", "previous_total"]
    for g in campaign.rater_groups:
        head += [f"{g.key} ballots", f"{g.key} votes", f"{g.key} weight", f"{g.key} effective weight",
                 f"{g.key} mean points", f"{g.key} score"]
    for d in campaign.dimensions:
        head += [f"{d.key} satisfaction %", f"{d.key} low %", f"{d.key} high %", f"{d.key} satisfied",
                 f"{d.key} valid", f"{d.key} don't know"]
    head += ["not voting (below min_group_size; weight shared among the others)"]
    rows = []
    order = {c.key: i for i, c in enumerate(campaign.categories)}
    for r in sorted(result.evaluees.values(), key=lambda r: (order.get(r.category, 0), r.rank, r.evaluee)):
        row = [campaign.text(next(c.label for c in campaign.categories if c.key == r.category), locale), r.rank, r.of,
               r.evaluee, campaign.text(campaign.evaluee(r.evaluee).name, locale), _r(r.total), _r(r.democratic),
               _r(r.daily), _r(r.bonus), _r(r.previous_total)]
        for g in campaign.rater_groups:
            p = r.groups.get(g.key)
            row += ([p.ballots, "yes" if p.votes else "no", p.weight, _r(p.effective_weight), _r(p.mean_points),
                     _r(p.score)] if p else ["", "not rating", "", "", "", ""])
        for d in campaign.dimensions:
            x = r.dimensions[d.key]
            row += [_pct(x.rate), _pct(x.low), _pct(x.high), x.satisfied, x.valid, x.dont_know]
        row.append(", ".join(campaign.text(campaign.group(g).label, locale) for g in r.not_voting))
        rows.append(row)
    return head, rows


def dimension_rows(campaign: Campaign, result: Tally, locale: str = "zh") -> tuple[list[str], list[list]]:
    """Long format: evaluee × group (or all) × dimension with counts per scale option."""
    head = ["evaluee", "group", "dimension", *[o.key for o in campaign.scale], "don't know", "valid", "satisfied",
            "satisfaction %", "low %", "high %", "mean points"]
    rows = []
    for r in result.evaluees.values():
        parts = [("all", r.dimensions)] + [(g, p.dimensions) for g, p in r.groups.items()]
        for g, dims in parts:
            for d in campaign.dimensions:
                x = dims[d.key]
                rows.append([r.evaluee, g, d.key, *[x.counts.get(o.key, 0) for o in campaign.scale], x.dont_know,
                             x.valid, x.satisfied, _pct(x.rate), _pct(x.low), _pct(x.high), _r(x.mean_points)])
    return head, rows


def to_csv(campaign: Campaign, result: Tally, locale: str = "zh") -> bytes:
    head, rows = table(campaign, result, locale)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(head)
    w.writerows(["" if v is None else v for v in row] for row in rows)
    return buf.getvalue().encode("utf-8-sig")  # the BOM lets Excel read Chinese correctly


def board_rows(campaign: Campaign, board: list[rect.BoardRow], locale: str = "zh") -> tuple[list[str], list[list]]:
    """The rectification board (issue 6) as a table: one row per evaluee with a notice."""
    head = ["evaluee", "round", "deadline", "items", "planned", "done", "overdue", "contacts",
            "follow-up satisfaction per round"]
    rows = []
    for r in board:
        rates = "; ".join(f"{rr.number}: " + ("—" if rr.rate is None else f"{rr.rate:.1%} (n={rr.valid})")
                          if rr.closed else f"{rr.number}: {rr.answered}/{rr.asked} answered" for rr in r.rounds)
        rows.append([campaign.text(campaign.evaluee(r.evaluee).name, locale), r.round, r.deadline.isoformat(),
                     r.items, r.planned, r.done, r.overdue, r.contacts, rates])
    return head, rows


def to_xlsx(campaign: Campaign, result: Tally, locale: str = "zh", board: list[rect.BoardRow] | None = None) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "results"
    sheets = [("results", table(campaign, result, locale)), ("dimensions", dimension_rows(campaign, result, locale))]
    if board:
        sheets.append(("rectification", board_rows(campaign, board, locale)))
    for title, (head, rows) in sheets:
        sheet = ws if title == "results" else wb.create_sheet(title)
        sheet.append(head)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append(row)
        sheet.freeze_panes = "A2"
    notes = wb.create_sheet("notes")
    for line in _notes(campaign, result, locale):
        notes.append([line])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _notes(campaign: Campaign, result: Tally, locale: str) -> list[str]:
    lines = [f"{campaign.id}: {campaign.text(campaign.title, locale)}",
             f"computed {result.computed_at:%Y-%m-%d %H:%M} UTC from {result.ballots} ballots",
             "satisfaction = answers on levels marked satisfied / valid answers (don't know excluded); "
             "intervals: Wilson 95%",
             f"group score = effective weight x mean points / 100; a group with fewer than {campaign.min_group_size} "
             "valid ballots for an evaluee does not vote and its weight is shared proportionally among the others",
             f"daily = {campaign.scoring.daily_base:g} - deductions (floor 0); bonus = highest award only"]
    for r in result.evaluees.values():
        if r.not_voting:
            groups = ", ".join(campaign.text(campaign.group(g).label, locale) for g in r.not_voting)
            lines.append(f"{campaign.text(campaign.evaluee(r.evaluee).name, locale)}: not voting: {groups}")
    return lines


def _html_table(head: list[str], rows: list[list]) -> str:
    out = ["<table><thead><tr>" + "".join(f"<th>{escape(h)}</th>" for h in head) + "</tr></thead><tbody>"]
    for row in rows:
        out.append("<tr>" + "".join(f"<td>{escape('' if v is None else str(v))}</td>" for v in row) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def to_html(session: Session, campaign: Campaign, result: Tally, locale: str = "zh",
            now: datetime | None = None) -> bytes:
    head, rows = table(campaign, result, locale)
    found = charts.result_charts(campaign, result, tally.rounds(session, campaign, result), locale)
    found.append(charts.progress(campaign, group_progress(session, campaign), locale))
    title = escape(campaign.text(campaign.title, locale))
    parts = [f"<!doctype html><html lang='{locale}'><head><meta charset='utf-8'>"
             "<meta name='viewport' content='width=device-width, initial-scale=1'>"
             f"<title>{title}</title><style>body{{font-family:sans-serif;margin:1em}}"
             "table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px}"
             "img{max-width:100%;display:block;margin:1em 0}</style></head><body>",
             f"<h1>{title}</h1>"]
    parts += [f"<p>{escape(line)}</p>" for line in _notes(campaign, result, locale)]
    parts.append(_html_table(head, rows))
    board = rect.board(session, campaign, now or datetime.now(UTC))
    if board:
        parts.append("<h2>整改台账 / Rectification board</h2>" + _html_table(*board_rows(campaign, board, locale)))
    for c in found:
        data = base64.b64encode(c.png).decode()
        parts.append(f"<h2>{escape(c.title)}</h2><img alt='{escape(c.title)}' src='data:image/png;base64,{data}'>")
    parts.append("</body></html>")
    return "".join(parts).encode("utf-8")


def export(session: Session, campaign: Campaign, fmt: str, locale: str = "zh",
           now: datetime | None = None) -> bytes:
    """The report in ``fmt``; raises ``tally.Sealed`` for a sealed open campaign."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got '{fmt}'")
    result = tally.results(session, campaign, now)
    if fmt == "csv":
        return to_csv(campaign, result, locale)
    if fmt == "xlsx":
        return to_xlsx(campaign, result, locale, rect.board(session, campaign, now or datetime.now(UTC)))
    return to_html(session, campaign, result, locale, now)
