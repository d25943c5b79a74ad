"""The public board (五公开): one campaign's public pages, built from the database.

The same files are written as a static site (``minping site``) and served live by
``minping run`` (``bot/web/board.py``). A site is a set of relative paths:

    index.html  draw.html  progress.html  results.html  rectification.html  verify.html
    evaluee/<key>.html   charts/<name>.png      (Chinese, the default)
    en/...                                      (the same pages in English)
    style.css  font.woff  draw/pool.json  draw/drawn.json
    kit.zip                                     (after close: the verification kit, ``minping kit``)

Every link is relative, so the folder can be put under any path of any web server.
Nothing is loaded from elsewhere: the style and a cut of the Chinese font are files of
the site.

What is shown when:

* Always: the campaign (evaluees with their duties and commitments, rater groups,
  weights, samples, scoring rules, timetable, how anonymity and the draw work), the draw
  as far as it has gone, and the progress per rater group (drawn raters who submitted ÷
  drawn; an open group's ballots).
* Results, evaluee pages and results charts only once the campaign is closed (the tally
  stored at close), under the ``min_group_size`` rule for every figure
  (``reports/public.py``); before that, not a figure of the answers, sealed or not.
* Rectification plans as filed, with the follow-up rates per round. Never an opinion.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from flows.campaign import Campaign
from flows.i18n import t
from reports import board_pages as pages
from reports import kit as kits
from reports import progress as progresses
from reports import public, scores
from reports import tally as tallies
from reports.board_texts import LOCALES, prefix  # noqa: F401  (re-exported: the board's languages)
from reports.report import dims_table, parts_table, ranking_table
from reports.templates import ENV, font_woff, local_time
from storage import campaigns, draw
from storage.db import make_engine, session_scope

FONT_SECTIONS = {"board", "col", "common", "fb", "item", "progress", "pub", "q", "rect", "rep", "result", "sheet"}
PAGES = ("index", "draw", "progress", "results", "rectification", "verify")
KIT = "kit.zip"  # the verification kit (``minping kit``) in one file, linked from verify.html
TYPES = {".html": "text/html", ".css": "text/css", ".png": "image/png", ".woff": "font/woff",
         ".json": "application/json", ".zip": "application/zip"}


# --- a small cache: charts and the font take a second to make; a live board reuses them -----------
_CACHE: OrderedDict[tuple, object] = OrderedDict()
_LOCK = threading.Lock()  # also keeps matplotlib to one thread at a time


def _cached(key: tuple, make: Callable[[], object]) -> object:
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
        value = make()
        _CACHE[key] = value
        while len(_CACHE) > 48:
            _CACHE.popitem(last=False)
        return value


@dataclass(frozen=True)
class File:
    body: bytes
    content_type: str


class Board:
    """One campaign's board as it stands at ``now`` (one database session)."""

    def __init__(self, session: Session, campaign: Campaign, now: datetime,
                 locales: tuple[str, ...] = LOCALES) -> None:
        self.session, self.campaign, self.now, self.locales = session, campaign, now, locales
        self.row = campaigns.get_row(session, campaign.id)
        stored = tallies.stored(session, campaign.id) if self.row.closed else None
        self.tally = public.tally(campaign, stored) if stored is not None else None
        self.figures = progresses.progress(session, campaign)
        self.draw_row = draw.get(session, campaign.id)
        # Why there is no kit (a chain begun before opinions were hashed), or None.
        self.kit_refusal = kits.refusal(self.row, campaign) if self.closed else None

    @property
    def closed(self) -> bool:
        return self.tally is not None

    def prefix(self, locale: str) -> str:
        """Where a language's pages are: the first at the top, the others in a folder each."""
        return "" if locale == self.locales[0] else f"{locale}/"

    # --- the paths ---------------------------------------------------------------------------
    def paths(self) -> list[str]:
        out = ["style.css", "font.woff"]
        if self.draw_row is not None:
            out.append("draw/pool.json")
            if self.draw_row.revealed_at is not None:
                out.append("draw/drawn.json")
        if self.closed and self.kit_refusal is None:
            out.append(KIT)
        for loc in self.locales:
            p = self.prefix(loc)
            out += [f"{p}{name}.html" for name in PAGES]
            if self.closed:
                out += [f"{p}evaluee/{e.key}.html" for e in self.campaign.evaluees]
            out += [f"{p}charts/{name}.png" for name in self._charts(loc)]
        return out

    def file(self, path: str) -> File | None:
        """The file at ``path`` (relative, as in ``paths``; '' or a folder: its index.html),
        or None when the site has no such file now."""
        if path == "" or path.endswith("/"):
            path += "index.html"
        if path not in self.paths():
            return None
        body = self._make(path)
        return File(body, TYPES[path[path.rfind("."):]])

    def _make(self, path: str) -> bytes:
        if path == "style.css":
            return (ENV.get_template("style.css").render() + ENV.get_template("board/board.css").render()).encode()
        if path == "font.woff":
            return _cached(("font", self.campaign.id, str(self.row.loaded_at)), lambda: font_woff(self._font_text()))
        if path == "draw/pool.json":
            return _json(draw.pool_file(self.session, self.campaign))
        if path == "draw/drawn.json":
            return _json(draw.drawn_file(self.session, self.campaign))
        if path == KIT:
            return kits.zipped(kits.build(self.session, self.campaign), f"{self.campaign.id}-kit")
        locale = next((loc for loc in self.locales[1:] if path.startswith(self.prefix(loc))), self.locales[0])
        rest = path[len(self.prefix(locale)):]
        if rest.startswith("charts/"):
            return self._charts(locale)[rest[len("charts/"):-len(".png")]].png
        if rest.startswith("evaluee/"):
            return self._evaluee(locale, rest, rest[len("evaluee/"):-len(".html")]).encode()
        return getattr(self, "_" + rest.removesuffix(".html"))(locale, rest).encode()

    # --- charts ----------------------------------------------------------------------------------
    def _charts(self, locale: str) -> dict:
        from reports import charts as charting  # matplotlib: only where a board is drawn

        found = {}
        if self.closed:
            key = ("results", self.campaign.id, locale, self.tally.computed_at.isoformat(), str(self.row.loaded_at))
            found.update({c.name: c for c in _cached(key, lambda: charting.result_charts(self.campaign, self.tally,
                                                                                         locale))})
        key = ("progress", self.campaign.id, locale, tuple(self.figures))
        found["progress"] = _cached(key, lambda: charting.progress(self.campaign, self.figures, locale))
        return found

    # --- the pages -----------------------------------------------------------------------------
    def _render(self, template: str, locale: str, path: str, title: str, **context: object) -> str:
        c, tz = self.campaign, self.campaign.timezone
        up = "../" * (self.prefix(locale) + path).count("/")
        home = up + self.prefix(locale)
        other = next((loc for loc in self.locales if loc != locale), None)
        phase = campaigns.phase(self.row, self.now)
        phase_key = "ended" if phase == "closed" and not self.row.closed else phase
        L = lambda k, **kw: t(k, locale, **kw)  # noqa: E731
        return ENV.get_template(f"board/{template}").render(
            lang=locale, L=L, up=up, home=home, other_lang=other,
            other_href=None if other is None else up + self.prefix(other) + path,
            nav=[(f"{home}{p}.html", L(f"pub.nav_{p}"), path == f"{p}.html") for p in PAGES],
            campaign_title=c.text(c.title, locale), page_title=title,
            phase=L(f"pub.phase_{phase_key}", opens=local_time(c.opens, tz), closes=local_time(c.closes, tz)),
            footer=L("pub.footer", at=local_time(self.now, tz), tz=tz), **context)

    def _index(self, locale: str, path: str) -> str:
        c = self.campaign
        return self._render(
            "index.html", locale, path, t("pub.nav_index", locale), categories=pages.categories(c, locale),
            groups=pages.groups_table(c, locale), democratic_total=f"{max(scores.max_democratic(c, e.key) for e in c.evaluees):g}",
            dimensions=[(c.text(d.label, locale), c.text(d.hint, locale)) for d in c.dimensions],
            scale=pages.scale_table(c, locale), dont_know=c.text(c.dont_know, locale),
            rules=pages.rules(c, locale), deductions=pages.items_table(c.scoring.deductions, "−", locale),
            bonuses=pages.items_table(c.scoring.bonus, "+", locale), daily_base=f"{c.scoring.daily_base:g}",
            timetable=pages.timetable(self.session, c, self.tally, locale),
            sampled=bool(draw.sampled_groups(c)), sealed=c.sealed, batch=c.chain_batch,
            minutes=c.chain_batch_minutes, min_group=c.min_group_size)

    def _draw(self, locale: str, path: str) -> str:
        return self._render("draw.html", locale, path, t("pub.nav_draw", locale),
                            d=pages.draw_page(self.session, self.campaign, locale))

    def _progress(self, locale: str, path: str) -> str:
        return self._render("progress.html", locale, path, t("pub.nav_progress", locale),
                            table=pages.progress_table(self.campaign, self.figures, locale),
                            as_of=local_time(self.now, self.campaign.timezone),
                            chart=self._charts(locale)["progress"])

    def _results(self, locale: str, path: str) -> str:
        c, r = self.campaign, self.tally
        context: dict[str, object] = {"closed": self.closed}
        if r is not None:
            made = self._charts(locale)
            context.update(
                computed=t("rep.computed", locale, at=local_time(r.computed_at, c.timezone), n=r.ballots),
                rules=pages.rules(c, locale), public_rule=t("pub.public_rule", locale, min=c.min_group_size),
                categories=[(cat.key, t("rep.ranking", locale, category=c.text(cat.label, locale)),
                             ranking_table(c, r, cat.key, locale), made.get(f"ranking-{cat.key}"))
                            for cat in c.categories if any(x.category == cat.key for x in r.evaluees.values())],
                charts=[ch for name, ch in made.items() if not name.startswith(("ranking-", "progress"))],
                evaluees=[(e.key, c.text(e.name, locale)) for e in c.evaluees])
        return self._render("results.html", locale, path, t("pub.nav_results", locale), **context)

    def _evaluee(self, locale: str, path: str, key: str) -> str:
        c, r = self.campaign, self.tally
        card = pages.evaluee_card(c, key, locale)
        return self._render(
            "evaluee.html", locale, path, card.name, card=card, headline=pages.headline(c, r, key, locale),
            scored=r.evaluees[key].scored, voting=pages.voting_lines(c, r, key, locale),
            public_rule=t("pub.public_rule", locale, min=c.min_group_size),
            parts=parts_table(c, r.evaluees[key], locale), dims=dims_table(c, r, r.evaluees[key], locale),
            records=pages.records_table(self.session, c, key, locale))

    def _rectification(self, locale: str, path: str) -> str:
        sections = pages.rectification(self.session, self.campaign, locale, self.now) if self.closed else []
        return self._render("rectification.html", locale, path, t("pub.nav_rectification", locale),
                            closed=self.closed, sections=sections)

    def _verify(self, locale: str, path: str) -> str:
        return self._render("verify.html", locale, path, t("pub.nav_verify", locale), closed=self.closed,
                            kit=KIT, kit_folder=f"{self.campaign.id}-kit", kit_refusal=self.kit_refusal, chain_count=self.row.chain_count,
                            chain_head=self.row.chain_head)

    def _font_text(self) -> str:
        """The characters the pages use, or most of them: every word of the board and the
        report, and the campaign file's texts (a rarer character falls back to the
        reader's own fonts)."""
        from flows.i18n import CATALOG

        # The sections the board's pages draw on, named: which other modules a process
        # happens to have imported must not change the font (a live page = a site's file).
        words = "".join(v for key, tr in CATALOG.items() if key.split(".")[0] in FONT_SECTIONS for v in tr.values())
        return words + json.dumps(self.campaign.model_dump(mode="json"), ensure_ascii=False)


def _json(data: dict) -> bytes:
    """As ``minping sample --out`` writes it: what ``minping verify-draw`` reads."""
    return json.dumps(data, ensure_ascii=False, indent=1).encode()


def live_file(engine: Engine, campaign_id: str, path: str, now: datetime) -> File | None:
    """One file for a live server. The database is read in short transactions and the
    charts and the font are made between them, so SQLite's one lock is never held while
    matplotlib draws. Raises ``storage.campaigns.UnknownCampaign``."""
    with session_scope(engine) as s:
        board = Board(s, campaigns.get_campaign(s, campaign_id), now)
    board.paths()  # makes the charts (cached) outside any transaction
    if not path.endswith((".html", "/", ".json", ".zip")) and path != "":
        return board.file(path)
    with session_scope(engine) as s:
        board.session = s
        return board.file(path)


_engines: dict[str, Engine] = {}


def live_file_at(url: str, campaign_id: str, path: str, now: datetime) -> File | None:
    """``live_file`` in the board's own process (``bot.web.board`` runs it there, so
    that drawing charts never loads matplotlib into the bot's process or stalls its
    loop): one engine per database URL; None for an unknown campaign."""
    engine = _engines.get(url)
    if engine is None:
        engine = _engines[url] = make_engine(url)
    try:
        return live_file(engine, campaign_id, path, now)
    except campaigns.UnknownCampaign:
        return None


def site(session: Session, campaign: Campaign, now: datetime,
         locales: tuple[str, ...] = LOCALES) -> dict[str, bytes]:
    """Every file of the static site: relative path -> content (``locales``: the
    languages, the first at the top of the site)."""
    board = Board(session, campaign, now, locales)
    return {path: board.file(path).body for path in board.paths()}
