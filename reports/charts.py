"""Charts as PNG bytes (matplotlib, Agg): ranking per category with the interval of each
total, dimension heatmap, stacked scale distribution, response progress, trend across
linked rounds.

Honest by construction: a whisker never runs past the possible range (it is cut there,
and the chart says so); the heatmap's colour classes separate low rates as well as high
ones and its numbers are white or black by the cell's luminance; legends sit outside the
bars; an evaluee without a voting group shows "no score" with the reason, never 0.00.
Every chart carries ``alt``: its figures as text (the html report's alt text; tests read
it).

Chinese text uses Noto Sans CJK SC shipped by the ``mplfonts`` package, registered here,
so a fresh machine renders it without any system font. Sizes are chosen for a phone
screen: a chart is sent as a Telegram photo (~1280 px wide) and read without zooming.
"""

from __future__ import annotations

import io
import math
import textwrap
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import colors as mcolors  # noqa: E402
from matplotlib import font_manager  # noqa: E402

from flows.campaign import Campaign  # noqa: E402
from reports import progress as progresses  # noqa: E402
from reports import scores  # noqa: E402
from reports.results import Tally, no_score  # noqa: E402

DPI = 160
WIDTH = 8.0  # inches: 1280 px
FONT_FILE = "NotoSansCJKsc-Regular.otf"
COLOURS = ["#1a9850", "#91cf60", "#fee08b", "#d73027", "#bdbdbd"]  # satisfied … dissatisfied, 不了解
BAR, TARGET, OPEN = "#4575b4", "#d9d9d9", "#74add1"
# Heatmap classes: as fine below 50% as above it, so 33% and 44% never look alike.
RATE_BOUNDS = [0.0, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1.0]


def _register_font() -> str:
    import mplfonts

    path = Path(mplfonts.__file__).parent / "fonts" / FONT_FILE
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()


FONT = _register_font()
STYLE = {"font.family": [FONT], "font.size": 13, "axes.titlesize": 16, "axes.labelsize": 13,
         "xtick.labelsize": 12, "ytick.labelsize": 13, "axes.unicode_minus": False}


@dataclass(frozen=True)
class Chart:
    name: str  # file stem, e.g. ranking-gov
    title: str
    png: bytes
    alt: str = ""  # the figures as text


def _png(fig) -> bytes:  # noqa: ANN001
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _t(locale: str, zh: str, en: str) -> str:
    return zh if locale == "zh" else en


RATE_CMAP = plt.get_cmap("RdYlGn", len(RATE_BOUNDS) - 1)
RATE_NORM = mcolors.BoundaryNorm(RATE_BOUNDS, RATE_CMAP.N)


def rate_colour(rate: float) -> tuple:
    """The heatmap's colour of a satisfaction rate (one class per band of RATE_BOUNDS)."""
    return RATE_CMAP(RATE_NORM(rate))


def text_colour(rgba) -> str:  # noqa: ANN001
    """White on dark, black on light: by the WCAG relative luminance of the background."""
    def lin(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (lin(c) for c in mcolors.to_rgb(rgba))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    # The contrast with black is (L + 0.05) / 0.05, with white 1.05 / (L + 0.05).
    return "black" if (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) else "white"


# --- ranking ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RankingRow:
    evaluee: str
    label: str
    total: float | None
    low: float | None
    high: float | None
    clipped: bool


def ranking_rows(campaign: Campaign, tally: Tally, category: str, locale: str = "zh") -> list[RankingRow]:
    """The bars of one category's ranking, best first; evaluees without a score last."""
    rows = [r for r in tally.evaluees.values() if r.category == category]
    order = {e.key: i for i, e in enumerate(campaign.evaluees)}
    rows.sort(key=lambda r: (not r.scored, -(r.total or 0.0), order[r.evaluee]))
    out = []
    for r in rows:
        name = campaign.text(campaign.evaluee(r.evaluee).name, locale)
        iv = scores.total_interval(campaign, r)
        out.append(RankingRow(r.evaluee, f"{r.rank}. {name}" if r.scored else name, r.total,
                              iv.low if iv else None, iv.high if iv else None, bool(iv and iv.clipped)))
    return out


def ranking(campaign: Campaign, tally: Tally, category: str, locale: str = "zh") -> Chart:
    """Total score per evaluee of one category, best first, with the 95% interval of each
    total (the democratic part's uncertainty; cut at the possible range)."""
    cat = next(c for c in campaign.categories if c.key == category)
    rows = ranking_rows(campaign, tally, category, locale)
    reason = no_score(campaign.min_group_size, locale)
    top = max(scores.max_total(campaign, r.evaluee) for r in rows)
    title = _t(locale, f"综合排名 · {campaign.text(cat.label, locale)}", f"Ranking · {campaign.text(cat.label, locale)}")
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(WIDTH, 1.6 + 0.55 * len(rows)))
        y = list(range(len(rows)))[::-1]
        for yy, r in zip(y, rows, strict=True):
            if r.total is None:
                ax.text(top * 0.01, yy, reason, va="center", ha="left", color="#444444", fontsize=11)
                continue
            ax.barh(yy, r.total, color=BAR)
            ax.errorbar(r.total, yy, xerr=[[r.total - r.low], [r.high - r.total]], fmt="none", ecolor="#222222",
                        capsize=4, elinewidth=1.2)
            ax.text(top * 0.01, yy, f"{r.total:.2f}", va="center", ha="left", color="white", fontsize=12)
        ax.set_yticks(y, [r.label for r in rows])
        ax.set_ylim(-0.6, len(rows) - 0.4)  # rows without a bar keep their place too
        ax.set_xlim(0, top)
        ax.set_xlabel(_t(locale, f"总分（民主评议 + 日常考核 + 加分；最高 {top:g} 分）",
                         f"Total (democratic + daily + bonus; at most {top:g})"))
        ax.set_title(title)
        note = _t(locale, "横线：总分的 95% 置信区间（民主评议部分的抽样误差），不超出可能的得分范围",
                  "Whiskers: 95% interval of the total (sampling error of the democratic part), within the possible range")
        if any(r.clipped for r in rows):
            note += _t(locale, "；个别区间在范围边界处截断", "; some are cut at the range's edge")
        if not any(r.total is not None for r in rows):
            note = _t(locale, f"本类别{reason}，不排名", f"This category has {reason}: no ranking")
        ax.annotate(note, xy=(0, 0), xycoords="axes fraction", xytext=(-40, -58), textcoords="offset points",
                    fontsize=10, color="#444444", ha="left", va="top")
        ax.grid(axis="x", alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
        alt = "; ".join(f"{r.label} {r.total:.2f} ({r.low:.2f}–{r.high:.2f})" if r.total is not None
                        else f"{r.label}: {reason}" for r in rows)
        return Chart(f"ranking-{category}", title, _png(fig), alt)


# --- heatmap ------------------------------------------------------------------------------------
def heatmap(campaign: Campaign, tally: Tally, locale: str = "zh") -> Chart:
    """Satisfaction rate per evaluee × dimension (cell text: rate and valid answers)."""
    evs = [campaign.evaluee(k) for k in tally.evaluees]
    dims = campaign.dimensions
    title = _t(locale, "各评议内容满意率", "Satisfaction per dimension")
    cmap, norm = RATE_CMAP, RATE_NORM
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(max(WIDTH, 1.6 * len(dims) + 2.5), 1.4 + 0.6 * len(evs)))
        shown = [[(tally.evaluees[e.key].dimensions[d.key].rate if tally.evaluees[e.key].dimensions[d.key].rate
                   is not None else math.nan) for d in dims] for e in evs]
        im = ax.imshow(shown, cmap=cmap, norm=norm, aspect="auto")
        alt = []
        for i, e in enumerate(evs):
            for j, d in enumerate(dims):
                cell = tally.evaluees[e.key].dimensions[d.key]
                if cell.rate is None:
                    ax.text(j, i, "—", ha="center", va="center", fontsize=11, color="black")
                    continue
                colour = text_colour(rate_colour(cell.rate))
                ax.text(j, i, f"{cell.rate:.1%}\nn={cell.valid}", ha="center", va="center", fontsize=11, color=colour)
                alt.append(f"{campaign.text(e.name, locale)}/{campaign.text(d.label, locale)} {cell.rate:.1%}")
        ax.set_xticks(range(len(dims)), [campaign.text(d.label, locale) for d in dims])
        ax.set_yticks(range(len(evs)), [campaign.text(e.name, locale) for e in evs])
        ax.xaxis.tick_top()
        ax.set_title(title, pad=34)
        bar = fig.colorbar(im, ax=ax, fraction=0.03, pad=0.02, ticks=RATE_BOUNDS)
        bar.ax.set_yticklabels([f"{b:.0%}" for b in RATE_BOUNDS], fontsize=10)
        return Chart("heatmap", title, _png(fig), "; ".join(alt))


# --- distribution --------------------------------------------------------------------------------
def distribution(campaign: Campaign, tally: Tally, locale: str = "zh") -> Chart:
    """Share of each scale level (and 不了解) per evaluee, all dimensions pooled."""
    evs = [campaign.evaluee(k) for k in tally.evaluees]
    levels = [(o.key, campaign.text(o.label, locale)) for o in campaign.scale] + [(None, campaign.text(campaign.dont_know, locale))]
    title = _t(locale, "评价等级分布", "Answers per scale level")
    alt = []
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(WIDTH, 1.8 + 0.55 * len(evs)))
        y = list(range(len(evs)))[::-1]
        left = [0.0] * len(evs)
        for idx, (key, label) in enumerate(levels):
            shares = []
            for e in evs:
                dims = tally.evaluees[e.key].dimensions.values()
                total = sum(d.valid + d.dont_know for d in dims)
                n = sum((d.counts.get(key, 0) if key else d.dont_know) for d in dims)
                shares.append(n / total if total else 0.0)
            colour = COLOURS[min(idx, len(COLOURS) - 2)] if key is not None else COLOURS[-1]
            ax.barh(y, shares, left=left, color=colour, label=label, edgecolor="white")
            for yy, lft, sh in zip(y, left, shares, strict=True):
                if sh >= 0.08:
                    ax.text(lft + sh / 2, yy, f"{sh:.0%}", ha="center", va="center", fontsize=11,
                            color=text_colour(colour))
            left = [a + b for a, b in zip(left, shares, strict=True)]
            alt.append(f"{label}: " + ", ".join(f"{campaign.text(e.name, locale)} {sh:.0%}"
                                                 for e, sh in zip(evs, shares, strict=True)))
        ax.set_yticks(y, [campaign.text(e.name, locale) for e in evs])
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
        ax.legend(ncol=min(5, len(levels)), loc="upper center", bbox_to_anchor=(0.5, -0.1), frameon=False,
                  fontsize=11)
        ax.set_title(title)
        ax.spines[["top", "right"]].set_visible(False)
        return Chart("distribution", title, _png(fig), "; ".join(alt))


# --- progress --------------------------------------------------------------------------------------
def progress(campaign: Campaign, rows: list[progresses.Progress], locale: str = "zh") -> Chart:
    """Per rater group the figures of ``reports.progress``: a sampled group's submitted
    against its drawn; an open group's ballots as a count; after-service ballots apart."""
    title = _t(locale, "各评议层面回收进度", "Response progress per rater group")
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(WIDTH, 1.8 + 0.6 * len(rows)))
        y = list(range(len(rows)))[::-1]
        widest = max([p.of or 0 for p in rows] + [p.done for p in rows] + [1])
        for yy, p in zip(y, rows, strict=True):
            if p.kind == "sampled" and p.of:
                ax.barh(yy, p.of, color=TARGET)
                ax.barh(yy, p.done, color=BAR)
            elif p.kind == "open":
                ax.barh(yy, p.done, color=OPEN)
            text = progresses.line(campaign, p, locale).split("：" if locale == "zh" else ": ", 1)[-1]
            ax.text(max(p.of or 0, p.done) + widest * 0.01, yy, text, va="center", fontsize=11)
        ax.set_yticks(y, [campaign.text(campaign.group(p.group).label, locale) for p in rows])
        ax.set_xlim(0, widest * 1.9)  # room for the labels right of the bars
        handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in (BAR, TARGET, OPEN)]
        ax.legend(handles, [_t(locale, "已提交（抽中者）", "submitted (drawn)"), _t(locale, "抽中人数", "drawn"),
                            _t(locale, "开放参与的评议表", "ballots of an open group")],
                  ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.12), frameon=False, fontsize=11)
        ax.set_title(title)
        ax.spines[["top", "right"]].set_visible(False)
        return Chart("progress", title, _png(fig), "; ".join(progresses.line(campaign, p, locale) for p in rows))


# --- trend ---------------------------------------------------------------------------------------------
def trend(campaign: Campaign, rounds: list, locale: str = "zh") -> Chart:
    """Total per evaluee across the rounds linked with ``previous:`` (oldest first):
    [(campaign id, title, {evaluee: total})]."""
    keys = [e.key for e in campaign.evaluees]
    title = _t(locale, "历次评议得分趋势", "Scores across rounds")
    alt = []
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(WIDTH, 5.0))
        xs = list(range(len(rounds)))
        for k in keys:
            ys = [totals.get(k) for _, _, totals in rounds]
            if sum(v is not None for v in ys) == 0:
                continue
            name = campaign.text(campaign.evaluee(k).name, locale)
            ax.plot(xs, [v if v is not None else math.nan for v in ys], marker="o", linewidth=2, label=name)
            alt.append(f"{name}: " + " → ".join("—" if v is None else f"{v:.2f}" for v in ys))
        titles = [campaign.text(t, locale) if t else cid for cid, t, _ in rounds]
        distinct = len(set(titles)) == len(titles)  # else the ids tell the rounds apart
        labels = [textwrap.fill(title, 12) + ("" if distinct else f"\n({cid})")
                  for title, (cid, _, _) in zip(titles, rounds, strict=True)]
        ax.set_xticks(xs, labels, fontsize=10)
        ax.margins(x=0.12)  # room for the wrapped round titles at both ends
        ax.set_ylabel(_t(locale, "总分", "Total"))
        ax.set_title(title)
        ax.grid(alpha=0.3)
        if len(keys) <= 12:
            ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False, fontsize=11)
        ax.spines[["top", "right"]].set_visible(False)
        return Chart("trend", title, _png(fig), "; ".join(alt))


def result_charts(campaign: Campaign, tally: Tally, locale: str = "zh") -> list[Chart]:
    """Every results chart: one ranking per category, heatmap, distribution, and the
    trend when the campaign is linked to an earlier round."""
    charts = [ranking(campaign, tally, c.key, locale) for c in campaign.categories
              if any(r.category == c.key for r in tally.evaluees.values())]
    charts += [heatmap(campaign, tally, locale), distribution(campaign, tally, locale)]
    if len(tally.trend) >= 2:
        charts.append(trend(campaign, tally.trend, locale))
    return charts
