"""Exports of the results: the report for people (``reports.report``) as html (Jinja2,
print-ready A4, charts embedded), xlsx (sheets 排名, 评议内容, 意见建议, 整改, 日常考核记录,
说明) and csv (the ranking), in the report's language; and the machine-readable
ballot-level data (``reports.data``: csv + a JSON schema of the codes).

Callers get ``reports.tally.Sealed`` for a sealed campaign that is still open: nothing per
evaluee leaves before close.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from datetime import UTC, datetime

from sqlmodel import Session

from flows.campaign import Campaign
from reports import report as reports
from reports import tally
from reports.templates import embed_font, render
from storage import campaigns

FORMATS = ("html", "xlsx", "csv", "data")
WRAP_AFTER = 40  # characters: longer columns wrap in the xlsx


def build(session: Session, campaign: Campaign, locale: str = "zh", now: datetime | None = None,
          with_charts: bool = True) -> reports.Report:
    """The report model; ``tally.Sealed`` for a sealed open campaign."""
    result = tally.results(session, campaign, now)
    closed = campaigns.get_row(session, campaign.id).closed
    return reports.build(session, campaign, result, _locale(campaign, locale), now, with_charts, closed)


def _locale(campaign: Campaign, locale: str) -> str:
    return locale if locale in ("zh", "en") else campaign.default_locale


def to_html(report: reports.Report) -> bytes:
    title = f"{report.title} · {report.label('rep.heading')}"
    html = render("report.html", r=report, lang="zh-CN" if report.locale == "zh" else "en", page_title=title)
    return embed_font(html).encode("utf-8")


def to_csv(report: reports.Report) -> bytes:
    """The ranking of every category as people read it (88.9%, 71.40, —), UTF-8 with a
    BOM so that Excel reads the Chinese; the machine-readable data is ``reports.data``."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(report.ranking.head)
    w.writerows([c.text for c in row] for row in report.ranking.rows)
    return buf.getvalue().encode("utf-8-sig")


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def to_xlsx(report: reports.Report) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    L = report.label
    wb = Workbook()
    sheets = [("sheet.ranking", report.ranking), ("sheet.dimensions", report.dimensions),
              ("sheet.opinions", report.opinions), ("sheet.rectification", report.plans),
              ("sheet.records", report.records)]
    first = True
    for key, table in sheets:
        ws = wb.active if first else wb.create_sheet()
        first = False
        ws.title = L(key)
        ws.append(table.head)
        for cell in ws[1]:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="F3F4F6")
            cell.alignment = Alignment(vertical="top", wrap_text=True)
        for row in table.rows:
            ws.append([c.value if c.numeric else c.text for c in row])
            for cell, c in zip(ws[ws.max_row], row, strict=True):
                if c.numeric:
                    cell.number_format = c.fmt
                if c.value is None and c.numeric:
                    cell.value = c.text  # "—" rather than an empty cell that reads as 0
        for i, head in enumerate(table.head, 1):
            widest = max([_width(head)] + [_width(r[i - 1].text) for r in table.rows])
            letter = ws.cell(row=1, column=i).column_letter
            ws.column_dimensions[letter].width = min(max(widest + 2, 6), WRAP_AFTER + 2)
            if widest > WRAP_AFTER:
                for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.freeze_panes = "A2"
    notes = wb.create_sheet(L("sheet.notes"))
    for line in [report.title, L("rep.heading"), *report.meta, "", L("rep.rules"), *report.rules, "",
                 L("rep.progress"), *report.progress]:
        notes.append([line])
    notes.column_dimensions["A"].width = 120
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def export(session: Session, campaign: Campaign, fmt: str, locale: str = "zh",
           now: datetime | None = None) -> bytes:
    """The report in ``fmt`` (html, xlsx or csv; ``data`` is ``reports.data.export``);
    raises ``tally.Sealed`` for a sealed open campaign."""
    if fmt not in FORMATS or fmt == "data":
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got '{fmt}'")
    report = build(session, campaign, locale, now or datetime.now(UTC), with_charts=fmt == "html")
    if fmt == "csv":
        return to_csv(report)
    if fmt == "xlsx":
        return to_xlsx(report)
    return to_html(report)
