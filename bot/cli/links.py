"""``minping links``: the deep links and single-use codes of a campaign.

Every link is stored, so codes issued once can be listed again with their state
(unused, used, revoked), revoked, exported as CSV for a mail merge, and printed as
captioned QR codes (PNG files, or one HTML sheet to print and cut). The bot's username
for ``t.me`` links comes from Telegram (``getMe`` with TELEGRAM_BOT_TOKEN), unless
``--bot-username`` says it.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import typer
from rich.markup import escape

from bot.cli.common import app, console, engine, fail, get_campaign, now, require_phase
from bot.settings import get_settings

KIND_NAMES = {
    "zh": {"group": "报名链接", "open group": "报名链接（不抽签）", "code": "个人邀请码（一次有效）",
           "service": "服务后评价（一事一评）", "organizer": "组织者码（一次有效）",
           "evaluee": "被评议对象联系人码（一次有效）"},
    "en": {"group": "enrolment link", "open group": "enrolment link (no draw)", "code": "personal code (single-use)",
           "service": "rate after service", "organizer": "organizer code (single-use)",
           "evaluee": "evaluee contact code (single-use)"},
}
TABLE_KIND = {"group": "group", "open group": "open group", "code": "code (single-use)", "service": "after service",
              "organizer": "organizer code", "evaluee": "evaluee code"}


class BotUsernameError(Exception):
    """The bot's username could not be learnt from Telegram (the message says why)."""


def bot_username(token: str | None, api_base: str, timeout: float = 10.0) -> str:
    """The bot's @username from the Bot API's getMe (plain HTTP: no framework needed)."""
    import urllib.error
    import urllib.request

    if not token:
        raise BotUsernameError("TELEGRAM_BOT_TOKEN is not set, so the bot's username cannot be asked from Telegram: "
                               "set it in .env, or pass --bot-username NAME")
    where = api_base.rstrip("/")
    try:
        with urllib.request.urlopen(f"{where}/bot{token}/getMe", timeout=timeout) as resp:  # noqa: S310
            data = json.loads(resp.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        reason = "the token was refused (401 Unauthorized): check TELEGRAM_BOT_TOKEN" if exc.code == 401 \
            else f"HTTP {exc.code}"
        raise BotUsernameError(f"getMe at {where}: {reason}; or pass --bot-username NAME") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise BotUsernameError(f"cannot reach the Bot API at {where} (TELEGRAM_API_BASE) to ask the bot's username "
                               f"({reason}); pass --bot-username NAME") from None
    username = (data.get("result") or {}).get("username") if data.get("ok") else None
    if not username:
        raise BotUsernameError(f"getMe at {where} gave no username ({data.get('description', data)}); "
                               "pass --bot-username NAME")
    return username


@dataclass
class Row:
    kind: str  # group | open group | code | service | organizer | evaluee
    who: str  # whom it is for, in the campaign's language
    name: str  # file name of its QR code
    token: str
    state: str  # reusable | unused | used | revoked
    created_at: datetime | None = None
    used_at: datetime | None = None
    revoked_at: datetime | None = None
    group: str = ""
    unit: str = ""
    evaluee: str = ""


def _who(c, link, loc: str) -> str:  # noqa: ANN001
    """Whom a stored link is for: 'group (unit)', the evaluee's name, or organizer."""
    if link.kind in ("group", "code"):
        label = c.text(c.group(link.group_key).label, loc) if link.group_key in {g.key for g in c.rater_groups} \
            else link.group_key
        return f"{label} ({_unit_name(c, link.unit, loc)})" if link.unit else label
    if link.kind in ("service", "evaluee") and link.evaluee_key in {e.key for e in c.evaluees}:
        return c.text(c.evaluee(link.evaluee_key).name, loc)
    return "organizer" if link.kind == "organizer" else (link.evaluee_key or link.group_key or "")


def _unit_name(c, unit: str, loc: str) -> str:  # noqa: ANN001
    e = next((e for e in c.evaluees if e.kind == "unit" and e.key == unit), None)
    return c.text(e.name, loc) if e else unit


def _row(c, link, loc: str, name: str) -> Row:  # noqa: ANN001
    kind = link.kind
    if kind == "group" and link.group_key in {g.key for g in c.rater_groups} and c.group(link.group_key).open:
        kind = "open group"
    state = ("revoked" if link.revoked_at else "reusable" if not link.single_use
             else "used" if link.used_at else "unused")
    return Row(kind, _who(c, link, loc), name, link.token, state, link.created_at, link.used_at, link.revoked_at,
               link.group_key or "", link.unit or "", link.evaluee_key or "")


def _token_of(text: str) -> str:
    m = re.search(r"start=([A-Za-z0-9_-]+)", text)
    return m.group(1) if m else text.strip()


@app.command()
def links(campaign_id: str = typer.Argument(..., help="Campaign id."),
          bot_username_: str = typer.Option(None, "--bot-username",
                                            help="The bot's @username for t.me links (default: asked from Telegram "
                                                 "with TELEGRAM_BOT_TOKEN)."),
          codes: int = typer.Option(0, min=0, max=10_000,
                                    help="Issue N new single-use codes per closed group (per unit for staff)."),
          organizer: int = typer.Option(0, min=0, max=100, help="Issue N single-use organizer codes."),
          evaluee: str = typer.Option(None, help="Issue one single-use evaluee code for KEY, or 'all'."),
          list_: bool = typer.Option(False, "--list", help="List every link and code issued so far, with its state "
                                                            "(unused, used, revoked); issues nothing."),
          revoke: list[str] = typer.Option(None, "--revoke", metavar="TOKEN",
                                           help="Revoke a link or code (token or whole link; repeatable)."),
          qr: Path = typer.Option(None, help="Also write a captioned QR code PNG for each link into this directory."),
          csv_file: Path = typer.Option(None, "--csv", help="Also write the links as CSV (UTF-8, for Excel and "
                                                           "mail merge)."),
          sheet: Path = typer.Option(None, help="Also write a printable HTML sheet of captioned QR codes "
                                                "(usable links only).")) -> None:
    """The deep links: a reusable enrolment link per open or link-enrolled group (per unit
    for own-unit groups), single-use codes for closed groups (--codes N), an after-service
    link per evaluee, and single-use organizer / evaluee codes. Everything issued is
    stored: --list shows it again with its state, --revoke withdraws a code."""
    from storage import links as link_store
    from storage.db import session_scope

    if list_ and (codes or organizer or evaluee):
        fail("--list shows what was issued; issue new codes in a separate command (without --list)")
    eng = engine()
    if revoke:
        _revoke(eng, campaign_id, revoke)
        if not (list_ or codes or organizer or evaluee or qr or csv_file or sheet):
            return
    username = (bot_username_ or "").lstrip("@")
    if not username:
        settings = get_settings()
        try:
            username = bot_username(settings.telegram_bot_token, settings.telegram_api_base)
        except BotUsernameError as exc:
            fail(str(exc))
    rows: list[Row] = []
    notes: list[str] = []
    with session_scope(eng) as s:
        c = get_campaign(s, campaign_id)
        loc = c.default_locale
        keys = [e.key for e in c.evaluees]
        if evaluee not in (None, "all") and evaluee not in keys:
            fail(f"campaign '{c.id}' has no evaluee '{evaluee}' (evaluees: {', '.join(keys)})")
        if list_:
            for i, link in enumerate(link_store.list_links(s, c.id), 1):
                rows.append(_row(c, link, loc, f"{link.kind}-{i}"))
        else:
            from storage import campaigns

            enrolling = campaigns.phase(campaigns.get_row(s, c.id), now()) != "closed"
            if codes:
                require_phase(s, c, "issuing enrolment codes", {"upcoming", "open"}, instead={
                    "ended": "enrolment is over", "closed": "enrolment is over"})
            rows, notes = _issue(s, c, loc, codes, organizer, evaluee, enrolling)
            unused = sum(1 for link in link_store.list_links(s, c.id)
                         if link.kind == "code" and link.single_use and not link.used_at and not link.revoked_at)
            if unused and not codes:
                notes.append(f"{unused} single-use code(s) issued earlier are unused: see them with "
                             f"`minping links {c.id} --list`")
        title = c.text(c.title, loc)
    url = f"https://t.me/{username}?start="
    _print(c, rows, url)
    for n in notes:
        console.print(escape(n))
    if csv_file is not None:
        _write_csv(csv_file, rows, url)
        console.print(f"wrote {csv_file} ({len(rows)} row(s))")
    printable = [r for r in rows if r.state in ("reusable", "unused")]
    items = [_printed(c, r, url, title) for r in printable]
    if qr is not None:
        from bot.qr import write_pngs

        paths = write_pngs(qr, items)
        console.print(f"wrote {len(paths)} captioned QR code(s) (PNG) into {qr}")
    if sheet is not None:
        from bot.qr import sheet as render

        sheet.parent.mkdir(parents=True, exist_ok=True)
        sheet.write_text(render(f"{title} — {c.id}", items), encoding="utf-8")
        console.print(f"wrote {sheet} ({len(items)} QR code(s) to print)")


def _issue(s, c, loc: str, codes: int, organizer: int, evaluee: str | None, enrolling: bool):  # noqa: ANN001, ANN202
    from storage import links as link_store

    rows: list[Row] = []
    notes: list[str] = []
    closed_without_codes = []
    if enrolling:
        for g in c.rater_groups:
            for unit in (c.units if g.rates == "own_unit" else [None]):
                base = f"{g.key}-{unit}" if unit else g.key
                if not g.by_codes:
                    rows.append(_row(c, link_store.group_link(s, c.id, g.key, unit), loc, base))
                elif codes:
                    for i, link in enumerate(link_store.issue_codes(s, c.id, "code", codes, group_key=g.key,
                                                                    unit=unit), 1):
                        rows.append(_row(c, link, loc, f"{base}-code{i}"))
                else:
                    label = c.text(g.label, loc)
                    closed_without_codes.append(f"{label} ({unit})" if unit else label)
        service = c.service_group_key
        if service is not None:
            for e in c.evaluees:
                rows.append(_row(c, link_store.service_link(s, c.id, service, e.key), loc, f"service-{e.key}"))
    else:
        notes.append("enrolment is over (the campaign is closed): rater links are not shown")
    for i, link in enumerate(link_store.issue_codes(s, c.id, "organizer", organizer), 1):
        rows.append(_row(c, link, loc, f"organizer{i}"))
    for key in ([e.key for e in c.evaluees] if evaluee == "all" else [evaluee] if evaluee else []):
        link = link_store.issue_codes(s, c.id, "evaluee", 1, evaluee_key=key)[0]
        rows.append(_row(c, link, loc, f"evaluee-{key}"))
    if closed_without_codes:
        notes.append("Closed groups join with single-use codes only; issue them with --codes N: "
                     + ", ".join(closed_without_codes))
    return rows, notes


def _revoke(eng, campaign_id: str, tokens: list[str]) -> None:  # noqa: ANN001
    from storage import links as link_store
    from storage.db import session_scope

    with session_scope(eng) as s:
        get_campaign(s, campaign_id)
        at = now()
        done = []
        for raw in tokens:
            token = _token_of(raw)
            link = link_store.revoke(s, campaign_id, token, at)
            if link is None:
                fail(f"campaign '{campaign_id}' has no link or code {token} (see: minping links {campaign_id} --list); "
                     "nothing was revoked")
            done.append((token, link))
    for token, link in done:
        extra = " (it was used already: its holder stays enrolled)" if link.used_at else ""
        console.print(f"[green]revoked[/] {link.kind} {token}{extra}")


def _print(c, rows: list[Row], url: str) -> None:  # noqa: ANN001
    from rich.cells import cell_len
    from rich.console import Console
    from rich.table import Table

    table = Table(title=escape(f"Links of {c.id}"))
    for col in ("kind", "for", "state", "link"):
        table.add_column(col, no_wrap=True)  # links stay whole, to copy them
    cells = [("kind", "for", "state", "link")]
    for r in rows:
        state = r.state if r.state != "used" or not r.used_at else f"used {r.used_at:%Y-%m-%d}"
        row = (TABLE_KIND.get(r.kind, r.kind), r.who, state, url + r.token)
        table.add_row(row[0], escape(row[1]), row[2], row[3])
        cells.append(row)
    need = sum(max((cell_len(str(x)) for x in col), default=0) + 3 for col in zip(*cells, strict=False)) + 2
    Console(width=max(console.width, need)).print(table)


def _write_csv(path: Path, rows: list[Row], url: str) -> None:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["kind", "for", "group", "unit", "evaluee", "state", "link", "token", "created_at", "used_at",
                "revoked_at"])
    for r in rows:
        w.writerow([r.kind, r.who, r.group, r.unit, r.evaluee, r.state, url + r.token, r.token,
                    *(t.isoformat() if t else "" for t in (r.created_at, r.used_at, r.revoked_at))])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue().encode("utf-8-sig"))  # the BOM lets Excel read Chinese right


def _printed(c, r: Row, url: str, title: str):  # noqa: ANN001, ANN202
    from bot.qr import Printed

    names = KIND_NAMES.get(c.default_locale, KIND_NAMES["en"])
    return Printed(r.name, url + r.token, (title, f"{r.who} · {names.get(r.kind, r.kind)}", f"{c.id} · …{r.token[-6:]}"))
