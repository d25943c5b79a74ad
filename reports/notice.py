"""The rectification notice (整改通知书) an evaluee receives after close: its own
results, then the opinions, scrubbed and numbered in random order. Pure rendering from
the stored tally; Telegram HTML, every campaign or rater text escaped.

Anonymity rule (DESIGN.md §3, issue 6). Every figure shown to an evaluee is computed
only from the rater groups with at least ``min_group_size`` ballots for it (the
"visible" groups, which are also exactly the groups whose votes count in the score).
A smaller group is left out of every figure: it is not shown on its own, not folded
into an "others" remainder, and not inside the pooled satisfaction rates either, so the
pooled figure always equals the sum of the per-group figures shown beside it and
nothing can be subtracted out. The notice always carries the same sentence about this,
whether or not a group was left out, so its presence reveals nothing.

The category average beside each rate follows the same rule: it pools, over every
evaluee of the category, only that evaluee's visible groups (the tally's own category
average includes small groups, and when an evaluee is alone in its category with
answers it would equal its all-groups figure, from which a small group could be
subtracted).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from html import escape

from flows.campaign import Campaign
from flows.i18n import register, t
from flows.messages import Button, Message
from flows.scrub import scrub_opinion
from reports.results import EvalueeResult, no_score

LIMIT = 4096  # Telegram's message length; we keep the HTML source under it
BUDGET = 3900  # room for the heading of a continued message

register({
    "fb.title": {"zh": "整改通知书", "en": "Rectification notice"},
    "fb.subtitle": {"zh": "「{title}」· {name}", "en": "“{title}” · {name}"},
    "fb.results": {"zh": "测评结果", "en": "Results"},
    "fb.total": {"zh": "总分 {total}（民主测评 {democratic} + 日常考核 {daily} + 加分 {bonus}），"
                       "在「{category}」{of} 个对象中排第 {rank} 名。",
                 "en": "Score {total} (democratic evaluation {democratic} + daily assessment {daily} + bonus {bonus}); "
                       "rank {rank} of {of} in “{category}”."},
    "fb.no_score": {"zh": "{reason}，不参加排名（日常考核 {daily}，加分 {bonus}）。",
                    "en": "{reason}, so no rank (daily assessment {daily}, bonus {bonus})."},
    "fb.parts": {"zh": "民主测评各层面得分：", "en": "Democratic evaluation by rater group: "},
    "fb.part": {"zh": "{group} {score}（{ballots} 份）", "en": "{group} {score} ({ballots} ballots)"},
    "fb.satisfaction": {"zh": "各项满意度（括号内为同类平均）", "en": "Satisfaction per dimension (category average in brackets)"},
    "fb.dim": {"zh": "{label}：{rate}（有效 {n}；同类 {avg}）", "en": "{label}: {rate} ({n} valid; category {avg})"},
    "fb.by_group": {"zh": "分评议层面满意度", "en": "Satisfaction by rater group"},
    "fb.group_line": {"zh": "{group}（{ballots} 份）：{rates}", "en": "{group} ({ballots} ballots): {rates}"},
    "fb.no_figures": {"zh": "对您的有效评议表太少，不显示满意度数字。",
                      "en": "Too few ballots rated you to show satisfaction figures."},
    "fb.rule": {"zh": "说明：为保护评议人匿名，只统计对您的评议表不少于 {min} 份的评议层面；"
                      "不足 {min} 份的层面不单列，也不计入以上任何数字。",
                "en": "Note: to protect the raters' anonymity, only rater groups with at least {min} ballots for you "
                      "are counted; smaller groups are neither shown nor included in any figure above."},
    "fb.opinions": {"zh": "意见建议（共 {n} 条，随机排序，已隐去个人信息）",
                    "en": "Opinions ({n}, in random order, personal data removed)"},
    "fb.no_opinions": {"zh": "本次评议没有收到针对您的意见建议。", "en": "No opinions about you were received."},
    "fb.continued": {"zh": "整改通知书（续 {k}）", "en": "Rectification notice (continued, {k})"},
    "fb.deadline": {"zh": "请于 {deadline} 前逐条制定整改措施（措施、责任人、时限），点击下方按钮开始。"
                          "评议人将在截止后评价整改效果。",
                    "en": "Please answer each item with a measure, an owner and a deadline by {deadline}; "
                          "tap the button below to start. The raters will judge the result after the deadline."},
    "fb.deadline_none": {"zh": "如有整改措施，也可点击下方按钮登记（截止 {deadline}）。",
                         "en": "You may still file measures with the button below (due {deadline})."},
    "fb.start": {"zh": "制定整改方案", "en": "File the rectification plan"},
    "fb.round": {"zh": "第 {round} 轮整改", "en": "Rectification round {round}"},
    "fb.records": {"zh": "日常考核扣分与加分记录", "en": "Daily assessment deductions and bonus awards"},
    "fb.deduction": {"zh": "扣分 {item} −{points} 分", "en": "Deduction {item} −{points}"},
    "fb.bonus": {"zh": "加分 {item} +{points} 分（只计最高一项）", "en": "Bonus {item} +{points} (only the highest counts)"},
    "fb.reason": {"zh": "：{note}", "en": ": {note}"},
})


def pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.1f}%"


@dataclass(frozen=True)
class Visible:
    groups: list[str]  # shown groups, campaign order
    # dimension -> (satisfied, valid) over the shown groups only
    pooled: dict[str, tuple[int, int]]


def visible(campaign: Campaign, result: EvalueeResult) -> Visible:
    """The figures an evaluee may see (the module's anonymity rule)."""
    order = [g.key for g in campaign.rater_groups]
    groups = [g for g in order if g in result.groups and result.groups[g].ballots >= campaign.min_group_size]
    pooled = {}
    for d in campaign.dimensions:
        sat = sum(result.groups[g].dimensions[d.key].satisfied for g in groups)
        valid = sum(result.groups[g].dimensions[d.key].valid for g in groups)
        pooled[d.key] = (sat, valid)
    return Visible(groups, pooled)


def scrubbed(campaign: Campaign, result: EvalueeResult, opinions: list[tuple[str, str]]) -> tuple[list[str], int]:
    """The opinions about one evaluee as it may read them, in the given order, and how many
    were dropped (nothing left after scrubbing). Opinions of a rater group with fewer than
    ``min_group_size`` ballots for the evaluee are scrubbed in strict mode: with so few
    writers, what one says about oneself (我是办公室的…) would tell who wrote it."""
    kept = []
    for group, text in opinions:
        part = result.groups.get(group)
        strict = part is None or part.ballots < campaign.min_group_size
        cleaned = scrub_opinion(text, strict=strict)
        if cleaned:
            kept.append(cleaned)
    return kept, len(opinions) - len(kept)


def category_average(campaign: Campaign, results: dict[str, EvalueeResult], category: str,
                     dimension: str) -> float | None:
    """The category's satisfaction rate on ``dimension`` over visible groups only."""
    sat = valid = 0
    for r in results.values():
        if r.category == category:
            s, v = visible(campaign, r).pooled[dimension]
            sat, valid = sat + s, valid + v
    return sat / valid if valid else None


def results_text(campaign: Campaign, result: EvalueeResult, results: dict[str, EvalueeResult],
                 locale: str) -> list[str]:
    """The results part, as HTML blocks (``results``: every evaluee's, for the category
    average)."""
    tx = lambda v: campaign.text(v, locale)  # noqa: E731
    vis = visible(campaign, result)
    category = next(c for c in campaign.categories if c.key == result.category)
    if result.scored:
        total = t("fb.total", locale, total=f"{result.total:.2f}", democratic=f"{result.democratic:.2f}",
                  daily=f"{result.daily:.2f}", bonus=f"{result.bonus:.2f}", category=tx(category.label),
                  of=result.of, rank=result.rank)
    else:
        total = t("fb.no_score", locale, reason=no_score(campaign.min_group_size, locale),
                  daily=f"{result.daily:.2f}", bonus=f"{result.bonus:.2f}")
    blocks = [f"<b>{escape(t('fb.results', locale))}</b>\n" + escape(total)]
    if vis.groups:
        parts = ("；" if locale == "zh" else "; ").join(
            t("fb.part", locale, group=tx(campaign.group(g).label), score=f"{result.groups[g].score:.2f}",
              ballots=result.groups[g].ballots) for g in vis.groups)
        blocks[0] += "\n" + escape(t("fb.parts", locale) + parts)
        lines = [f"<b>{escape(t('fb.satisfaction', locale))}</b>"]
        for d in campaign.dimensions:
            sat, valid = vis.pooled[d.key]
            lines.append(escape(t("fb.dim", locale, label=tx(d.label), rate=pct(sat / valid if valid else None),
                                  n=valid, avg=pct(category_average(campaign, results, result.category, d.key)))))
        blocks.append("\n".join(lines))
        if len(vis.groups) > 1:
            lines = [f"<b>{escape(t('fb.by_group', locale))}</b>"]
            sep = "，" if locale == "zh" else ", "
            for g in vis.groups:
                dims = result.groups[g].dimensions
                rates = sep.join(f"{tx(d.label)} {pct(dims[d.key].rate)}" for d in campaign.dimensions)
                lines.append(escape(t("fb.group_line", locale, group=tx(campaign.group(g).label),
                                      ballots=result.groups[g].ballots, rates=rates)))
            blocks.append("\n".join(lines))
    else:
        blocks.append(escape(t("fb.no_figures", locale)))
    blocks.append(escape(t("fb.rule", locale, min=campaign.min_group_size)))
    return blocks


def _pieces(raw: str, limit: int) -> list[str]:
    """Escaped pieces of ``raw``, each at most ``limit`` characters of HTML."""
    out, cur = [], ""
    for ch in raw:
        e = escape(ch)
        if len(cur) + len(e) > limit:
            out.append(cur)
            cur = ""
        cur += e
    if cur:
        out.append(cur)
    return out


def pack(blocks: list[str], locale: str, budget: int = BUDGET) -> list[str]:
    """Join HTML blocks into messages under ``budget`` characters; a block too long for
    one message is never produced (callers split items with ``_pieces``)."""
    messages: list[str] = []
    cur = ""
    for b in blocks:
        if cur and len(cur) + 2 + len(b) > budget:
            messages.append(cur)
            cur = f"<b>{escape(t('fb.continued', locale, k=len(messages) + 1))}</b>\n\n" + b
        else:
            cur = f"{cur}\n\n{b}" if cur else b
    if cur:
        messages.append(cur)
    return messages


def record_block(records: list[tuple[str, str, float, str | None]], locale: str) -> list[str]:
    """The deductions and bonuses that count for this evaluee, each with its reason
    (``records``: (kind, item, points, note) of ``storage.tally.events``)."""
    if not records:
        return []
    lines = [f"<b>{escape(t('fb.records', locale))}</b>"]
    for kind, item, points, note in records:
        line = t("fb.deduction" if kind == "deduction" else "fb.bonus", locale, item=item, points=f"{points:g}")
        if note:
            line += t("fb.reason", locale, note=note)
        lines.append(escape(line))
    return ["\n".join(lines)]


def notice_messages(campaign: Campaign, result: EvalueeResult, results: dict[str, EvalueeResult],
                    items: list[tuple[int, str]], deadline: date, locale: str, start_action: str,
                    round_number: int = 1,
                    records: list[tuple[str, str, float, str | None]] = ()) -> list[Message]:
    """The whole notice as messages (each under 4096 characters); the last one carries
    the button that opens the plan-filing conversation."""
    tx = lambda v: campaign.text(v, locale)  # noqa: E731
    head = (f"<b>{escape(t('fb.title', locale))}</b>\n"
            + escape(t("fb.subtitle", locale, title=tx(campaign.title), name=tx(campaign.evaluee(result.evaluee).name))))
    if round_number > 1:
        head += "\n" + escape(t("fb.round", locale, round=round_number))
    blocks = [head, *results_text(campaign, result, results, locale), *record_block(list(records), locale)]
    blocks += item_blocks(items, locale)
    key = "fb.deadline" if items else "fb.deadline_none"
    blocks.append(f"<b>{escape(t(key, locale, deadline=deadline.isoformat()))}</b>")
    texts = pack(blocks, locale)
    button = ((Button(t("fb.start", locale), start_action),),)
    return [Message(x, button if i == len(texts) - 1 else ()) for i, x in enumerate(texts)]


def item_blocks(items: list[tuple[int, str]], locale: str) -> list[str]:
    if not items:
        return [escape(t("fb.no_opinions", locale))]
    blocks = [f"<b>{escape(t('fb.opinions', locale, n=len(items)))}</b>"]
    for number, text in items:
        pieces = _pieces(text, BUDGET - 200)
        blocks.append(f"{number}. {pieces[0]}")
        blocks.extend(pieces[1:])
    return blocks
