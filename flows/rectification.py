"""The evaluee's rectification conversation (整改): pure.

An evaluee's contact answers the rectification notice item by item, or several items
with one measure: for each, the measure (整改措施), the owner (责任人) and the deadline
(整改时限, a date in the campaign's time zone, not past and not after the round's
deadline). Later they report progress and mark measures done. An item that needs no
rectification (it praises, or asks for something outside the evaluee's remit) is marked
so with a reason: counted apart, never overdue. From round 2 on, the earlier rounds'
plans are shown with their state.

``step(ctx, state, event) -> Step`` (``flows.messages``): ``ctx`` is what the database
says now (items, plans, today's date), ``state`` is where the conversation is, the step
carries the new state, the messages and the *effects* the bot must store (a plan,
progress, done); an out-of-date button is ``outcome.stale`` (nothing is stored).

Button actions: ``R<op><round id>.<arg>`` (ASCII, ≤ 24 bytes); a button of another round
is out of date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape
from typing import Literal

from pydantic import BaseModel

from flows import actions
from flows.i18n import register, t
from flows.messages import Button, Message, Outcome, Step

MAX_MEASURE = 1000
MAX_OWNER = 100
MAX_PROGRESS = 1000
CARD = "rect"
MAX_PLAN_BUTTONS = 24

register({
    "rect.menu_title": {"zh": "整改方案 · {name} · 第 {round} 轮（截止 {deadline}）",
                        "en": "Rectification plan · {name} · round {round} (due {deadline})"},
    "rect.summary": {"zh": "通知书共 {n} 项意见：已有方案 {planned} 项，已完成 {done} 项，尚未安排 {open} 项。",
                     "en": "The notice has {n} items: {planned} planned, {done} done, {open} not yet planned."},
    "rect.summary_exempt": {"zh": "另有 {n} 项经说明无需整改。", "en": "{n} more need no rectification (reason given)."},
    "rect.exempt_line": {"zh": "第 {items} 项：无需整改（{kind}）。说明：{reason}",
                         "en": "Items {items}: no rectification needed ({kind}). Reason: {reason}"},
    "rect.exempt_short": {"zh": "无需整改（{kind}）", "en": "no rectification needed ({kind})"},
    "rect.kind_praise": {"zh": "表扬、肯定", "en": "praise"},
    "rect.kind_remit": {"zh": "不属于本单位职责", "en": "outside our remit"},
    "rect.earlier": {"zh": "第 {round} 轮的整改方案（供对照）：", "en": "Round {round} plans (for reference):"},
    "rect.btn_exempt": {"zh": "标记无需整改", "en": "No rectification needed"},
    "rect.ask_exempt_items": {"zh": "哪几项意见无需整改（例如表扬，或不属于本单位职责）？请发送序号，例如：2,4",
                              "en": "Which items need no rectification (praise, or outside your remit)? Send the numbers, e.g. 2,4"},
    "rect.ask_kind": {"zh": "第 {items} 项为什么无需整改？", "en": "Why do items {items} need no rectification?"},
    "rect.ask_reason": {"zh": "第 {items} 项（{kind}）：请简要说明理由（最多 {max} 字），组织者会看到。",
                        "en": "Items {items} ({kind}): give the reason briefly (at most {max} characters); the organizers will read it."},
    "rect.exempt_saved": {"zh": "已记录：第 {items} 项无需整改。", "en": "Recorded: items {items} need no rectification."},
    "rect.unplanned": {"zh": "尚未安排：第 {items} 项", "en": "Not yet planned: items {items}"},
    "rect.all_planned": {"zh": "每一项意见都已有整改方案。", "en": "Every item has a plan."},
    "rect.plan_line": {"zh": "方案{id}（第 {items} 项）：{measure}\n　责任人：{owner}；时限：{deadline}；{status}",
                       "en": "Plan {id} (items {items}): {measure}\n  Owner: {owner}; due {deadline}; {status}"},
    "rect.status_planned": {"zh": "进行中", "en": "in progress"},
    "rect.status_done": {"zh": "✅ 已完成", "en": "✅ done"},
    "rect.status_overdue": {"zh": "⚠️ 已逾期", "en": "⚠️ overdue"},
    "rect.progress_line": {"zh": "　进展：{text}", "en": "  Progress: {text}"},
    "rect.btn_next": {"zh": "为第 {n} 项制定方案", "en": "Plan item {n}"},
    "rect.btn_group": {"zh": "多项合并制定", "en": "Several items together"},
    "rect.btn_all": {"zh": "其余各项一并制定", "en": "All the rest together"},
    "rect.btn_progress": {"zh": "报告进展", "en": "Report progress"},
    "rect.btn_done": {"zh": "标记完成", "en": "Mark done"},
    "rect.btn_cancel": {"zh": "取消", "en": "Cancel"},
    "rect.btn_menu": {"zh": "返回方案", "en": "Back to the plan"},
    "rect.btn_plan": {"zh": "方案{id}", "en": "Plan {id}"},
    "rect.ask_items": {"zh": "请发送本项措施对应的意见序号，例如：1,3,5-7",
                       "en": "Send the numbers of the items this measure answers, e.g. 1,3,5-7"},
    "rect.ask_measure": {"zh": "第 {items} 项：请发送整改措施（一条消息，最多 {max} 字）。",
                         "en": "Items {items}: send the measure (one message, at most {max} characters)."},
    "rect.ask_owner": {"zh": "请发送责任人或责任科室。", "en": "Send the owner (a person or an office)."},
    "rect.ask_deadline": {
        "zh": "请发送完成时限（日期，如 {example}，不晚于 {deadline}；也可写“15天”）。",
        "en": "Send the deadline (a date like {example}, no later than {deadline}; or e.g. “15 days”)."},
    "rect.saved": {"zh": "已保存方案{id}。", "en": "Plan {id} saved."},
    "rect.pick_progress": {"zh": "请选择要报告进展的方案：", "en": "Which plan is the progress about?"},
    "rect.pick_done": {"zh": "请选择已完成的方案：", "en": "Which plan is done?"},
    "rect.no_open_plans": {"zh": "没有进行中的方案。", "en": "There is no plan in progress."},
    "rect.ask_progress": {"zh": "方案{id}：请发送进展情况（最多 {max} 字）。",
                          "en": "Plan {id}: send the progress (at most {max} characters)."},
    "rect.progress_saved": {"zh": "已记录方案{id}的进展。", "en": "Progress of plan {id} recorded."},
    "rect.done_saved": {"zh": "方案{id}已标记为完成。", "en": "Plan {id} marked done."},
    "rect.cancelled": {"zh": "已取消。", "en": "Cancelled."},
    "rect.err_items": {"zh": "没看懂序号。请发送如 1,3,5-7 的序号（共 {n} 项）。",
                       "en": "I could not read those numbers. Send e.g. 1,3,5-7 (there are {n} items)."},
    "rect.err_no_item": {"zh": "没有第 {items} 项（共 {n} 项）。", "en": "There is no item {items} (there are {n})."},
    "rect.err_planned": {"zh": "第 {items} 项已有整改方案。", "en": "Items {items} already have a plan."},
    "rect.err_empty": {"zh": "内容不能为空，请重新发送。", "en": "This cannot be empty; please send it again."},
    "rect.err_long": {"zh": "共 {n} 字，超过了 {max} 字的上限，请精简后重新发送。",
                      "en": "That is {n} characters; the limit is {max}. Please shorten it and send it again."},
    "rect.err_date": {"zh": "没看懂这个日期。请按 {example} 的格式发送，或写“15天”。",
                      "en": "I could not read that date. Write it like {example}, or e.g. “15 days”."},
    "rect.err_no_such_date": {"zh": "没有 {text} 这一天，请检查后重新发送。",
                              "en": "There is no such day as {text}; please check it."},
    "rect.err_past": {"zh": "{date} 已经过去了，请发送今天（{today}）或以后的日期。",
                      "en": "{date} has passed; send today ({today}) or a later date."},
    "rect.err_after": {"zh": "{date} 晚于本轮整改截止日 {deadline}，请提前。",
                       "en": "{date} is after this round's deadline {deadline}; please choose an earlier date."},
    "rect.err_round_over": {"zh": "本轮整改已于 {deadline} 截止，不能再新增方案。",
                            "en": "This round ended on {deadline}; no new plans can be added."},
    "rect.use_buttons": {"zh": "请使用下方按钮。", "en": "Please use the buttons below."},
    "rect.stale": {"zh": "此按钮已失效。", "en": "This button is out of date."},
})


# --- context, state, events, effects ------------------------------------------------------
@dataclass(frozen=True)
class PlanView:
    id: int
    items: tuple[int, ...]
    measure: str  # for praise / remit: the reason
    owner: str
    deadline: date
    done: bool = False
    progress: str | None = None
    kind: str = "plan"  # plan | praise | remit (no rectification needed)

    @property
    def is_plan(self) -> bool:
        return self.kind == "plan"


@dataclass(frozen=True)
class Ctx:
    round_id: int
    round_number: int
    evaluee_name: str
    locale: str
    today: date
    round_deadline: date
    items: tuple[int, ...]
    plans: tuple[PlanView, ...] = ()
    earlier: tuple[tuple[int, tuple[PlanView, ...]], ...] = ()  # (round number, its plans), oldest first

    def planned(self) -> set[int]:
        """Items answered: by a plan or by a "no rectification needed"."""
        return {i for p in self.plans for i in p.items}

    def unplanned(self) -> list[int]:
        taken = self.planned()
        return [i for i in self.items if i not in taken]

    def plan(self, plan_id: int) -> PlanView | None:
        return next((p for p in self.plans if p.id == plan_id), None)

    def number(self, plan_id: int) -> int:
        """Plans are shown numbered 1.. within the round (ids are database ids)."""
        return next((i for i, p in enumerate(self.plans, 1) if p.id == plan_id), 0)


class RState(BaseModel):
    round_id: int
    step: Literal["menu", "items", "measure", "owner", "deadline", "progress", "exempt_items", "exempt_kind",
                  "exempt_reason"] = "menu"
    items: list[int] = []
    measure: str = ""
    owner: str = ""
    plan_id: int | None = None
    kind: str = "plan"

    @property
    def wants_text(self) -> bool:
        return self.step not in ("menu", "exempt_kind")


@dataclass(frozen=True)
class Show:
    pass


@dataclass(frozen=True)
class Tap:
    data: str


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class SavePlan:
    items: tuple[int, ...]
    measure: str
    owner: str
    deadline: date
    kind: str = "plan"  # praise / remit: "no rectification needed", measure = the reason


@dataclass(frozen=True)
class SaveProgress:
    plan_id: int
    text: str


@dataclass(frozen=True)
class MarkDone:
    plan_id: int


Effect = SavePlan | SaveProgress | MarkDone


def _answer(state: RState, messages: list[Message] | None = None, toast: str | None = None,
            effects: list[Effect] | None = None) -> Step[RState]:
    """The step's answer in the one contract (``flows.messages.Step``)."""
    return Step(state, Outcome(list(messages or ()), toast), tuple(effects or ()))


def _stale(ctx: Ctx, state: RState) -> Step[RState]:
    """An out-of-date button: nothing changes, the runtime stores nothing."""
    return Step(state, Outcome(toast=t("rect.stale", ctx.locale), stale=True))


# --- actions ---------------------------------------------------------------------------------
PREFIX, FOLLOWUP = actions.claim("rectification", "R", "F")


def action(op: str, round_id: int, arg: int | str = "") -> str:
    return actions.pack(PREFIX, f"{op}{round_id}", arg)


KINDS = ("praise", "remit")  # the "no rectification needed" kinds, buttons k1 and k2


def parse_action(data: str) -> tuple[str, int, str] | None:
    fields = actions.unpack(PREFIX, data)
    m = re.fullmatch(r"([a-zA-Z])(\d{1,12})\.([0-9]{0,12})", ".".join(fields or ()))
    if m is None:
        return None
    return m.group(1), int(m.group(2)), m.group(3)


# --- the follow-up survey's buttons ------------------------------------------------------
def followup_action(round_id: int, option: int | None) -> str:
    return actions.pack(FOLLOWUP, round_id, "n" if option is None else option)


def parse_followup(data: str) -> tuple[int, int | None] | None:
    fields = actions.unpack(FOLLOWUP, data)
    m = re.fullmatch(r"(\d{1,12})\.(n|\d{1,2})", ".".join(fields or ()))
    if m is None:
        return None
    return int(m.group(1)), None if m.group(2) == "n" else int(m.group(2))


def round_of(data: str) -> int | None:
    parsed = parse_action(data)
    return parsed[1] if parsed else None


# --- parsing ---------------------------------------------------------------------------------
def fmt_date(d: date) -> str:
    return d.isoformat()


def format_items(numbers: list[int] | tuple[int, ...], locale: str) -> str:
    """[1, 2, 3, 5] -> "1-3、5" (zh) / "1-3, 5" (en)."""
    out: list[str] = []
    nums = sorted(set(numbers))
    i = 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        out.append(str(nums[i]) if i == j else f"{nums[i]}-{nums[j]}")
        i = j + 1
    return ("、" if locale == "zh" else ", ").join(out)


def parse_items(text: str) -> list[int] | None:
    """"1,3,5-7" / "1、3 5-7" / "第1项" -> sorted numbers; None when unreadable."""
    cleaned = re.sub(r"[第项條条\s]+", " ", text.translate(str.maketrans("，、；;～~—－", ",,,,----")))
    parts = [p for p in re.split(r"[,\s]+", cleaned) if p]
    if not parts or len(parts) > 200:
        return None
    out: set[int] = set()
    for p in parts:
        m = re.fullmatch(r"(\d{1,4})(?:-(\d{1,4}))?", p)
        if m is None:
            return None
        a, b = int(m.group(1)), int(m.group(2) or m.group(1))
        if b < a or b - a > 500:
            return None
        out.update(range(a, b + 1))
    return sorted(out)


class DateError(ValueError):
    def __init__(self, key: str, **kw: object) -> None:
        super().__init__(key)
        self.key, self.kw = key, kw


_FULL = re.compile(r"(\d{4})\s*(?:[-/.]|年)\s*(\d{1,2})\s*(?:[-/.]|月)\s*(\d{1,2})\s*[日号]?")
_MONTH_DAY = re.compile(r"(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?")
_DAYS = re.compile(r"(?:in\s+)?(\d{1,3})\s*(?:天|日|days?)\s*(?:后|内|以内|之内)?", re.I)
_WORDS = {"今天": 0, "today": 0, "明天": 1, "tomorrow": 1, "后天": 2}


def parse_date(text: str, today: date) -> date:
    """A deadline as people type it. Raises ``DateError`` (unreadable or impossible).
    Past dates are the caller's business (``check_deadline``)."""
    s = text.strip().lower().rstrip("。.!！")
    if s in _WORDS:
        return today + timedelta(days=_WORDS[s])
    if m := _FULL.fullmatch(s):
        y, mo, d = (int(g) for g in m.groups())
        try:
            return date(y, mo, d)
        except ValueError:
            raise DateError("rect.err_no_such_date", text=text.strip()) from None
    if m := _MONTH_DAY.fullmatch(s):
        mo, d = int(m.group(1)), int(m.group(2))
        for year in (today.year, today.year + 1):
            try:
                candidate = date(year, mo, d)
            except ValueError:
                raise DateError("rect.err_no_such_date", text=text.strip()) from None
            if candidate >= today:
                return candidate
        return candidate
    if m := _DAYS.fullmatch(s):
        return today + timedelta(days=int(m.group(1)))
    raise DateError("rect.err_date", example=fmt_date(today + timedelta(days=14)))


def check_deadline(d: date, today: date, round_deadline: date) -> None:
    if d < today:
        raise DateError("rect.err_past", date=fmt_date(d), today=fmt_date(today))
    if d > round_deadline:
        raise DateError("rect.err_after", date=fmt_date(d), deadline=fmt_date(round_deadline))


# --- rendering -------------------------------------------------------------------------------
def _say(key: str, locale: str, **kw: object) -> Message:
    return Message(escape(t(key, locale, **kw)))


def _cancel_row(ctx: Ctx) -> tuple[Button, ...]:
    return (Button(t("rect.btn_cancel", ctx.locale), action("x", ctx.round_id)),)


def _prompt(ctx: Ctx, key: str, **kw: object) -> Message:
    return Message(escape(t(key, ctx.locale, **kw)), (_cancel_row(ctx),), CARD)


def plan_status(p: PlanView, today: date, locale: str) -> str:
    if p.done:
        return t("rect.status_done", locale)
    return t("rect.status_overdue" if p.deadline < today else "rect.status_planned", locale)


def kind_label(kind: str, locale: str) -> str:
    return t(f"rect.kind_{kind}", locale)


def plan_line(k: int, p: PlanView, today: date, locale: str) -> str:
    """One plan (numbered ``k`` in its round) or "no rectification needed", as HTML."""
    if not p.is_plan:
        return escape(t("rect.exempt_line", locale, items=format_items(p.items, locale),
                        kind=kind_label(p.kind, locale), reason=p.measure))
    line = escape(t("rect.plan_line", locale, id=k, items=format_items(p.items, locale), measure=p.measure,
                    owner=p.owner, deadline=fmt_date(p.deadline), status=plan_status(p, today, locale)))
    if p.progress:
        line += "\n" + escape(t("rect.progress_line", locale, text=p.progress))
    return line


def menu(ctx: Ctx) -> Message:
    loc = ctx.locale
    done_items = {i for p in ctx.plans if p.is_plan and p.done for i in p.items}
    planned = {i for p in ctx.plans if p.is_plan for i in p.items}
    exempt = {i for p in ctx.plans if not p.is_plan for i in p.items}
    unplanned = ctx.unplanned()
    lines = [f"<b>{escape(t('rect.menu_title', loc, name=ctx.evaluee_name, round=ctx.round_number, deadline=fmt_date(ctx.round_deadline)))}</b>",
             escape(t("rect.summary", loc, n=len(ctx.items), planned=len(planned), done=len(done_items),
                      open=len(unplanned)))
             + (escape(t("rect.summary_exempt", loc, n=len(exempt))) if exempt else "")]
    lines.append(escape(t("rect.unplanned", loc, items=format_items(unplanned, loc)) if unplanned
                        else t("rect.all_planned", loc)))
    body_budget = 3500
    blocks = [plan_line(k, p, ctx.today, loc) for k, p in enumerate(ctx.plans, 1)]
    for number, plans in reversed(ctx.earlier):  # the latest earlier round first
        blocks.append(f"<i>{escape(t('rect.earlier', loc, round=number))}</i>\n"
                      + "\n".join(plan_line(k, p, ctx.today, loc) for k, p in enumerate(plans, 1)))
    for k, block in enumerate(blocks):
        if sum(len(x) + 2 for x in lines) + len(block) > body_budget:
            lines.append(escape(t("common.more", loc, n=len(blocks) - k)))
            break
        lines.append(block)
    rows: list[tuple[Button, ...]] = []
    if unplanned and ctx.today <= ctx.round_deadline:
        first = (Button(t("rect.btn_next", loc, n=unplanned[0]), action("n", ctx.round_id, unplanned[0])),)
        if len(unplanned) > 1:
            first += (Button(t("rect.btn_group", loc), action("g", ctx.round_id)),)
        rows.append(first)
        rest = (Button(t("rect.btn_exempt", loc), action("z", ctx.round_id)),)
        if len(unplanned) > 1:
            rest = (Button(t("rect.btn_all", loc), action("a", ctx.round_id)), *rest)
        rows.append(rest)
    if any(p.is_plan and not p.done for p in ctx.plans):
        rows.append((Button(t("rect.btn_progress", loc), action("P", ctx.round_id)),
                     Button(t("rect.btn_done", loc), action("D", ctx.round_id))))
    return Message("\n\n".join(lines), tuple(rows), CARD)


def _pick(ctx: Ctx, op: str, title: str) -> Message:
    open_plans = [p for p in ctx.plans if p.is_plan and not p.done][:MAX_PLAN_BUTTONS]
    buttons = [Button(t("rect.btn_plan", ctx.locale, id=ctx.number(p.id)), action(op, ctx.round_id, p.id))
               for p in open_plans]
    rows = [tuple(buttons[i:i + 4]) for i in range(0, len(buttons), 4)]
    rows.append((Button(t("rect.btn_menu", ctx.locale), action("m", ctx.round_id)),))
    return Message(escape(t(title, ctx.locale)), tuple(rows), CARD)


# --- the step ---------------------------------------------------------------------------------
def start(round_id: int) -> RState:
    return RState(round_id=round_id)


def _menu(ctx: Ctx, state: RState, *before: Message, toast: str | None = None,
          effects: list[Effect] | None = None) -> Step[RState]:
    return _answer(RState(round_id=ctx.round_id), [*before, menu(ctx)], toast, effects or [])


def _begin_plan(ctx: Ctx, state: RState, numbers: list[int]) -> Step[RState]:
    if ctx.today > ctx.round_deadline:
        return _menu(ctx, state, _say("rect.err_round_over", ctx.locale, deadline=fmt_date(ctx.round_deadline)))
    st = RState(round_id=ctx.round_id, step="measure", items=numbers)
    return _answer(st, [_prompt(ctx, "rect.ask_measure", items=format_items(numbers, ctx.locale), max=MAX_MEASURE)])


def _tap(ctx: Ctx, state: RState, data: str) -> Step[RState]:
    parsed = parse_action(data)
    if parsed is None or parsed[1] != ctx.round_id:
        return _stale(ctx, state)
    op, _, arg = parsed
    loc = ctx.locale
    if op in ("m", "x"):
        toast = t("rect.cancelled", loc) if op == "x" and state.step != "menu" else None
        return _menu(ctx, state, toast=toast)
    if op == "n":
        unplanned = ctx.unplanned()
        n = int(arg) if arg else (unplanned[0] if unplanned else 0)
        if n not in unplanned:
            return _stale(ctx, state)
        return _begin_plan(ctx, state, [n])
    if op == "a":
        unplanned = ctx.unplanned()
        if not unplanned:
            return _stale(ctx, state)
        return _begin_plan(ctx, state, unplanned)
    if op in ("g", "z"):
        if ctx.today > ctx.round_deadline:
            return _menu(ctx, state, _say("rect.err_round_over", loc, deadline=fmt_date(ctx.round_deadline)))
        if op == "z":
            return _answer(RState(round_id=ctx.round_id, step="exempt_items"), [_prompt(ctx, "rect.ask_exempt_items")])
        return _answer(RState(round_id=ctx.round_id, step="items"), [_prompt(ctx, "rect.ask_items")])
    if op == "k":
        if state.step != "exempt_kind" or arg not in ("1", "2"):
            return _stale(ctx, state)
        kind = KINDS[int(arg) - 1]
        st = state.model_copy(update={"step": "exempt_reason", "kind": kind})
        return _answer(st, [_prompt(ctx, "rect.ask_reason", items=format_items(state.items, loc),
                                   kind=kind_label(kind, loc), max=MAX_MEASURE)])
    if op in ("P", "D"):
        if not any(p.is_plan and not p.done for p in ctx.plans):
            return _menu(ctx, state, toast=t("rect.no_open_plans", loc))
        return _answer(RState(round_id=ctx.round_id),
                      [_pick(ctx, "p" if op == "P" else "d", "rect.pick_progress" if op == "P" else "rect.pick_done")])
    if op in ("p", "d"):
        plan = ctx.plan(int(arg)) if arg else None
        if plan is None or plan.done or not plan.is_plan:
            return _stale(ctx, state)
        if op == "d":
            done = PlanView(**{**plan.__dict__, "done": True})
            after = Ctx(**{**ctx.__dict__, "plans": tuple(done if p.id == plan.id else p for p in ctx.plans)})
            return _menu(after, state, toast=t("rect.done_saved", loc, id=ctx.number(plan.id)),
                         effects=[MarkDone(plan.id)])
        st = RState(round_id=ctx.round_id, step="progress", plan_id=plan.id)
        return _answer(st, [_prompt(ctx, "rect.ask_progress", id=ctx.number(plan.id), max=MAX_PROGRESS)])
    return _stale(ctx, state)


def _checked_text(text: str, limit: int, loc: str) -> tuple[str | None, Message | None]:
    value = " ".join(text.split()) if "\n" not in text else text.strip()
    if not value:
        return None, _say("rect.err_empty", loc)
    if len(value) > limit:
        return None, _say("rect.err_long", loc, n=len(value), max=limit)
    return value, None


def _text(ctx: Ctx, state: RState, text: str) -> Step[RState]:
    loc = ctx.locale
    if state.step in ("items", "exempt_items"):
        ask = "rect.ask_items" if state.step == "items" else "rect.ask_exempt_items"
        numbers = parse_items(text)
        if numbers is None:
            return _answer(state, [_say("rect.err_items", loc, n=len(ctx.items)), _prompt(ctx, ask)])
        missing = [n for n in numbers if n not in ctx.items]
        if missing:
            return _answer(state, [_say("rect.err_no_item", loc, items=format_items(missing, loc), n=len(ctx.items)),
                                  _prompt(ctx, ask)])
        taken = sorted(set(numbers) & ctx.planned())
        if taken:
            return _answer(state, [_say("rect.err_planned", loc, items=format_items(taken, loc)), _prompt(ctx, ask)])
        if state.step == "items":
            return _begin_plan(ctx, state, numbers)
        kinds = tuple(Button(kind_label(k, loc), action("k", ctx.round_id, i)) for i, k in enumerate(KINDS, 1))
        return _answer(RState(round_id=ctx.round_id, step="exempt_kind", items=numbers),
                      [Message(escape(t("rect.ask_kind", loc, items=format_items(numbers, loc))),
                               (kinds, _cancel_row(ctx)), CARD)])
    if state.step == "exempt_reason":
        value, err = _checked_text(text, MAX_MEASURE, loc)
        if err:
            return _answer(state, [err])
        if set(state.items) & ctx.planned():  # answered meanwhile by another contact
            return _menu(ctx, state, _say("rect.err_planned", loc, items=format_items(
                sorted(set(state.items) & ctx.planned()), loc)))
        effect = SavePlan(tuple(state.items), value, "", ctx.today, state.kind)
        view = PlanView(-1, tuple(state.items), value, "", ctx.today, kind=state.kind)
        after = Ctx(**{**ctx.__dict__, "plans": (*ctx.plans, view)})
        return _menu(after, state, _say("rect.exempt_saved", loc, items=format_items(state.items, loc)),
                     effects=[effect])
    if state.step == "measure":
        value, err = _checked_text(text, MAX_MEASURE, loc)
        if err:
            return _answer(state, [err])
        return _answer(state.model_copy(update={"step": "owner", "measure": value}), [_prompt(ctx, "rect.ask_owner")])
    if state.step == "owner":
        value, err = _checked_text(text, MAX_OWNER, loc)
        if err:
            return _answer(state, [err])
        example = fmt_date(min(ctx.round_deadline, ctx.today + timedelta(days=14)))
        return _answer(state.model_copy(update={"step": "deadline", "owner": value}),
                      [_prompt(ctx, "rect.ask_deadline", example=example, deadline=fmt_date(ctx.round_deadline))])
    if state.step == "deadline":
        try:
            d = parse_date(text, ctx.today)
            check_deadline(d, ctx.today, ctx.round_deadline)
        except DateError as exc:
            return _answer(state, [_say(exc.key, loc, **exc.kw)])
        if set(state.items) & ctx.planned():  # planned meanwhile (another contact, another chat)
            return _menu(ctx, state, _say("rect.err_planned", loc, items=format_items(
                sorted(set(state.items) & ctx.planned()), loc)))
        effect = SavePlan(tuple(state.items), state.measure, state.owner, d)
        new_id = -1  # the stored id is unknown here; the bot re-renders the menu after storing
        view = PlanView(new_id, tuple(state.items), state.measure, state.owner, d)
        after = Ctx(**{**ctx.__dict__, "plans": (*ctx.plans, view)})
        return _menu(after, state, _say("rect.saved", loc, id=len(after.plans)), effects=[effect])
    if state.step == "progress":
        plan = ctx.plan(state.plan_id or 0)
        if plan is None:
            return _menu(ctx, state)
        value, err = _checked_text(text, MAX_PROGRESS, loc)
        if err:
            return _answer(state, [err])
        done = PlanView(**{**plan.__dict__, "progress": value})
        after = Ctx(**{**ctx.__dict__, "plans": tuple(done if p.id == plan.id else p for p in ctx.plans)})
        return _menu(after, state, _say("rect.progress_saved", loc, id=ctx.number(plan.id)),
                     effects=[SaveProgress(plan.id, value)])
    return _answer(state, [_say("rect.use_buttons", loc), menu(ctx)])


def step(ctx: Ctx, state: RState, event: Show | Tap | Text) -> Step[RState]:
    if state.round_id != ctx.round_id:  # a new round began: start over
        state = start(ctx.round_id)
    if isinstance(event, Show):
        return _menu(ctx, state)
    if isinstance(event, Tap):
        return _tap(ctx, state, event.data)
    return _text(ctx, state, event.text)
