"""The one Jinja2 environment of minping's web pages and printed reports (the html report
now; the public board later reuses it and its page style, ``templates/style.css``).

Templates live in ``reports/templates/`` (package data). Autoescaping is on for html:
every campaign text, name or rater text is escaped where it is written; a template never
marks user text safe. Missing variables are errors, not blanks.

``embed_font`` puts the Chinese font into a self-contained page: the glyphs the page uses,
cut from Noto Sans CJK SC (shipped by ``mplfonts``, as for the charts) with fontTools, as a
WOFF data URI (some 100-300 KB). A report then reads and prints the same on a machine
without any Chinese font.
"""

from __future__ import annotations

import base64
import shlex
from datetime import date, datetime
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

ENV = Environment(loader=PackageLoader("reports", "templates"), autoescape=select_autoescape(["html"]),
                  undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def pct(x: float | None, digits: int = 1) -> str:
    return "—" if x is None else f"{x * 100:.{digits}f}%"


def num(x: float | None, digits: int = 2) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def local_time(t: datetime | date | None, tz: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A time as people of the campaign read it: in its time zone (naive = UTC, as stored)."""
    if t is None:
        return "—"
    if not isinstance(t, datetime):
        return t.isoformat()
    if t.tzinfo is None:
        from datetime import UTC

        t = t.replace(tzinfo=UTC)
    return t.astimezone(ZoneInfo(tz)).strftime(fmt)


ENV.filters.update(pct=pct, num=num, data_uri=data_uri, shell=shlex.quote)  # shell: a value in a command to copy


def render(name: str, **context: object) -> str:
    return ENV.get_template(name).render(**context)


FONT_FAMILY = "MinpingSans"


def font_woff(text: str) -> bytes:
    """Noto Sans CJK SC cut to the characters of ``text`` (and printable ASCII), as WOFF."""
    import io
    from pathlib import Path

    import mplfonts
    from fontTools import subset
    from fontTools.ttLib import TTFont

    used = {ord(c) for c in text if ord(c) > 126} | set(range(32, 127))
    options = subset.Options()
    options.flavor = "woff"
    options.layout_features = ["*"]
    options.notdef_outline = True
    # recalcTimestamp off: the same text gives the same bytes (a site rebuilt, a live page).
    font = TTFont(str(Path(mplfonts.__file__).parent / "fonts" / "NotoSansCJKsc-Regular.otf"), lazy=True,
                  recalcTimestamp=False)
    cutter = subset.Subsetter(options)
    cutter.populate(unicodes=sorted(used))
    cutter.subset(font)
    font.flavor = options.flavor  # (Subsetter leaves the flavour to the save; without it: plain OpenType)
    buf = io.BytesIO()
    font.save(buf)
    return buf.getvalue()


def font_face(src: str) -> str:
    return f"@font-face {{ font-family: {FONT_FAMILY}; font-weight: 100 900; src: url({src}) format('woff'); }}\n"


def embed_font(html: str) -> str:
    """``html`` with an @font-face for the characters it uses, inserted before its first
    ``</style>`` (the page style names the family first)."""
    face = font_face("data:font/woff;base64," + base64.b64encode(font_woff(html)).decode())
    return html.replace("</style>", face + "</style>", 1)
