"""Charts as PNG bytes (matplotlib, Agg): ranking per category with interval whiskers,
dimension heatmap, stacked scale distribution, response progress, trend across rounds.

Chinese text uses Noto Sans CJK SC shipped by the ``mplfonts`` package, registered here,
so a fresh machine renders it without any system font. Sizes are chosen for a phone
screen: a chart is sent as a Telegram photo (~1280 px wide) and read without zooming.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402

from flows.campaign import Campaign  # noqa: E402
from reports.results import Tally  # noqa: E402

DPI = 160
WIDTH = 8.0  # inches: 1280 px
FONT_FILE = "NotoSansCJKsc-Regular.otf"
COLOURS = ["#1a9850", "#91cf60", "#fee08b", "#d73027", "#bdbdbd"]  # satisfied … dissatisfied, 不了解


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


def _png(fig) -> bytes:  # noqa: ANN001
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _t(locale: str, zh: str, en: str) -> str:
    return zh if locale == "zh" else en


def ranking(campaign: Campaign, tally: Tally, category: str, locale: str = "zh") -> Chart:
    """Total score per evaluee of one category, best first; whiskers show how far the
    democratic part could move within the 95% intervals of the pooled satisfaction."""
    cat = next(c for c in campaign.categories if c.key == category)
    rows = sorted((r for r in tally.evaluees.values() if r.category == category), key=lambda r: (-r.total, r.evaluee))
    names = [f"{r.rank}. {campaign.text(campaign.evaluee(r.evaluee).name, locale)}" for r in rows]
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(WIDTH, 1.2 + 0.55 * len(rows)))
        y = range(len(rows))[::-1]
        lows, highs = [], []
        for r in rows:
            rates = [d for d in r.dimensions.values() if d.rate is not None]
            if rates:
                mean_rate = sum(d.rate for d in rates) / len(rates)
                lo = sum(d.low for d in rates) / len(rates)
                hi = sum(d.high for d in rates) / len(rates)
                lows.append(max(0.0, r.democratic * (1 - lo / mean_rate) if mean_rate else 0.0))
                highs.append(max(0.0, r.democratic * (hi / mean_rate - 1) if mean_rate else 0.0))
            else:
                lows.append(0.0)
                highs.append(0.0)
        bars = ax.barh(list(y), [r.total for r in rows], color="#4575b4", xerr=[lows, highs],
                       error_kw={"ecolor": "#333333", "capsize": 4, "elinewidth": 1.2})
        for bar, r in zip(bars, rows, strict=True):
            ax.text(bar.get_width() * 0.02 + 0.3, bar.get_y() + bar.get_height() / 2, f"{r.total:.2f}",
                    va="center", ha="left", color="white", fontsize=12)
        ax.set_yticks(list(y), names)
        ax.set_xlabel(_t(locale, "总分（民主评议 + 日常考核 + 加分）", "Total (democratic + daily + bonus)"))
        ax.set_title(_t(locale, f"综合排名 · {campaign.text(cat.label, locale)}",
                        f"Ranking · {campaign.text(cat.label, locale)}"))
        ax.set_xlim(0, max([r.total for r in rows] + [100]) * 1.05)
        ax.grid(axis="x", alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
        return Chart(f"ranking-{category}", ax.get_title(), _png(fig))


def heatmap(campaign: Campaign, tally: Tally, locale: str = "zh") -> Chart:
    """Satisfaction rate per evaluee × dimension (cell text: rate and valid answers)."""
    evs = [campaign.evaluee(k) for k in tally.evaluees]
    dims = campaign.dimensions
    data = [[tally.evaluees[e.key].dimensions[d.key].rate for d in dims] for e in evs]
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(max(WIDTH, 1.6 * len(dims) + 2.5), 1.4 + 0.6 * len(evs)))
        shown = [[v if v is not None else float("nan") for v in row] for row in data]
        im = ax.imshow(shown, cmap="RdYlGn", vmin=0.5, vmax=1.0, aspect="auto")
        for i, e in enumerate(evs):
            for j, d in enumerate(dims):
                cell = tally.evaluees[e.key].dimensions[d.key]
                text = f"{cell.rate:.1%}\nn={cell.valid}" if cell.rate is not None else "—"
                ax.text(j, i, text, ha="center", va="center", fontsize=11)
        ax.set_xticks(range(len(dims)), [campaign.text(d.label, locale) for d in dims])
        ax.set_yticks(range(len(evs)), [campaign.text(e.name, locale) for e in evs])
        ax.xaxis.tick_top()
        ax.set_title(_t(locale, "各评议内容满意率", "Satisfaction per dimension"), pad=34)
        fig.colorbar(im, ax=ax, fraction=0.03, pad=0.02, format=lambda v, _: f"{v:.0%}")
        return Chart("heatmap", ax.get_title(), _png(fig))


def distribution(campaign: Campaign, tally: Tally, locale: str = "zh") -> Chart:
    """Share of each scale level (and 不了解) per evaluee, all dimensions pooled."""
    evs = [campaign.evaluee(k) for k in tally.evaluees]
    levels = [(o.key, campaign.text(o.label, locale)) for o in campaign.scale] + [(None, campaign.text(campaign.dont_know, locale))]
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
            colour = COLOURS[idx] if idx < len(levels) - 1 else COLOURS[-1]
            ax.barh(y, shares, left=left, color=colour, label=label, edgecolor="white")
            for yy, lft, sh in zip(y, left, shares, strict=True):
                if sh >= 0.08:
                    ax.text(lft + sh / 2, yy, f"{sh:.0%}", ha="center", va="center", fontsize=11)
            left = [a + b for a, b in zip(left, shares, strict=True)]
        ax.set_yticks(y, [campaign.text(e.name, locale) for e in evs])
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
        ax.legend(ncol=min(5, len(levels)), loc="upper center", bbox_to_anchor=(0.5, -0.08), frameon=False,
                  fontsize=11)
        ax.set_title(_t(locale, "评价等级分布", "Answers per scale level"))
        ax.spines[["top", "right"]].set_visible(False)
        return Chart("distribution", ax.get_title(), _png(fig))


def progress(campaign: Campaign, rows: list, locale: str = "zh") -> Chart:
    """Submitted ballots per rater group against its target (sample, else enrolled)."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(WIDTH, 1.4 + 0.6 * len(rows)))
        y = list(range(len(rows)))[::-1]
        names, targets, done = [], [], []
        for p in rows:
            g = campaign.group(p.group)
            names.append(campaign.text(g.label, locale))
            target = getattr(p, "drawn", None) or g.sample or p.enrolled
            targets.append(max(target or 0, p.submitted))
            done.append(p.submitted)
        ax.barh(y, targets, color="#d9d9d9", label=_t(locale, "目标", "target"))
        ax.barh(y, done, color="#4575b4", label=_t(locale, "已提交", "submitted"))
        for yy, d, tg in zip(y, done, targets, strict=True):
            share = f" ({d / tg:.0%})" if tg else ""
            ax.text(max(tg, d) * 1.01 + 0.1, yy, f"{d}/{tg}{share}", va="center", fontsize=12)
        ax.set_yticks(y, names)
        ax.set_xlim(0, max(targets + [1]) * 1.3)
        ax.legend(loc="lower right", frameon=False)
        ax.set_title(_t(locale, "各评议层面回收进度", "Response progress per rater group"))
        ax.spines[["top", "right"]].set_visible(False)
        return Chart("progress", ax.get_title(), _png(fig))


def trend(campaign: Campaign, rounds: list[tuple[str, dict[str, float]]], locale: str = "zh") -> Chart:
    """Total per evaluee across rounds (oldest first): [(round label, {evaluee: total})]."""
    keys = [e.key for e in campaign.evaluees]
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(WIDTH, 5.0))
        xs = list(range(len(rounds)))
        for k in keys:
            ys = [r.get(k) for _, r in rounds]
            if sum(v is not None for v in ys) == 0:
                continue
            ax.plot(xs, [v if v is not None else float("nan") for v in ys], marker="o", linewidth=2,
                    label=campaign.text(campaign.evaluee(k).name, locale))
        ax.set_xticks(xs, [label for label, _ in rounds])
        ax.set_ylabel(_t(locale, "总分", "Total"))
        ax.set_title(_t(locale, "历次评议得分趋势", "Scores across rounds"))
        ax.grid(alpha=0.3)
        if len(keys) <= 12:
            ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False, fontsize=11)
        ax.spines[["top", "right"]].set_visible(False)
        return Chart("trend", ax.get_title(), _png(fig))


def result_charts(campaign: Campaign, tally: Tally, rounds: list[tuple[str, dict[str, float]]] | None = None,
                  locale: str = "zh") -> list[Chart]:
    """Every results chart: one ranking per category, heatmap, distribution, and the
    trend when there is an earlier round."""
    charts = [ranking(campaign, tally, c.key, locale) for c in campaign.categories
              if any(r.category == c.key for r in tally.evaluees.values())]
    charts += [heatmap(campaign, tally, locale), distribution(campaign, tally, locale)]
    if rounds and len(rounds) >= 2:
        charts.append(trend(campaign, rounds, locale))
    return charts
