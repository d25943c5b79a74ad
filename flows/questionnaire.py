"""The rater questionnaire (DESIGN.md §1 step 4) as a pure state machine.

``step(campaign, state, event) -> Result`` is the whole engine: no I/O, no Telegram.
The adapter turns a Telegram update into an event, stores ``Result.state``, sends or
edits ``Result.outcome.messages`` and answers a button press with ``outcome.toast``;
``Result.submission`` (once, on the final confirmation) goes to storage as a ballot.

The rater sees one CARD per evaluee (``Message.card == f"q{state.card}"``), edited in
place while they answer its dimensions and opinion. Moving to another evaluee, to the
review, or re-showing the card (Show, SetLocale, stray text) starts a new card; the card
being left is emitted once more in its final form without buttons, so that no stale
buttons stay in the chat.

Button actions (ASCII, at most 48 bytes): an op letter, the card sequence, then the
position, separated by dots. Answering phase: ``a{card}.{i}.{s}.{o}`` answer option
``o`` (``o == len(scale)`` is 不了解), ``b{card}.{i}.{s}`` back, ``k{card}.{i}.{s}`` skip the
evaluee, ``p{card}.{i}.{s}`` pause, ``o{card}.{i}.{s}`` leave the opinion step keeping the
opinion (skip), ``r{card}.{i}.{s}`` delete the opinion and go on. Review: ``e{card}.{i}``
edit evaluee ``i``, ``s{card}`` submit. Confirmation: ``c{card}`` confirm, ``x{card}``
cancel. A tap that does not decode or does not match the current card, phase and
position is stale: nothing changes and only a toast answers it.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Literal, NamedTuple

from pydantic import BaseModel, Field

from flows.campaign import Campaign
from flows.i18n import t
from flows.messages import Button, Message, Outcome

DONT_KNOW = "dont_know"  # answer value meaning 不了解 (not a vote)

MAX_TEXT = 4096  # Telegram's limit for a message text
MAX_ACTION = 48  # Button.action budget (see flows.messages.Button)

Phase = Literal["answering", "review", "confirm", "submitted"]


class QState(BaseModel):
    """A rater's questionnaire in progress; stored as JSON between updates."""

    campaign_id: str
    group: str
    locale: str
    evaluees: list[str]  # keys, in the order the rater sees them
    index: int = 0  # current evaluee position
    step: int = 0  # 0..len(dimensions)-1 = that dimension; len(dimensions) = the opinion step
    phase: Phase = "answering"
    answers: dict[str, dict[str, str]] = Field(default_factory=dict)  # evaluee -> dim -> value
    opinions: dict[str, str] = Field(default_factory=dict)
    paused: bool = False
    card: int = 0  # sequence of the current card; Message.card == f"q{card}"


# --- events ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Show:
    """Start or resume: unpause and send the current card as a new card."""


@dataclass(frozen=True)
class Tap:
    """A button press: the ``Button.action`` the engine made earlier."""

    action: str


@dataclass(frozen=True)
class Text:
    """Free text typed by the rater."""

    text: str


@dataclass(frozen=True)
class Pause:
    """The rater pauses (``/pause``); ``Show`` resumes."""


@dataclass(frozen=True)
class SetLocale:
    locale: str


Event = Show | Tap | Text | Pause | SetLocale


@dataclass(frozen=True)
class Submission:
    """What storage turns into a ballot; a ``None`` answer is 不了解."""

    group: str
    answers: dict[str, dict[str, str | None]]
    opinions: dict[str, str]


class Result(NamedTuple):
    state: QState
    outcome: Outcome
    submission: Submission | None = None


# --- public helpers -----------------------------------------------------------------


def start(campaign: Campaign, group: str, locale: str, unit: str | None = None,
          only: list[str] | None = None) -> QState:
    """A fresh questionnaire for a rater of ``group`` (and ``unit`` for ``own_unit`` groups);
    ``only`` narrows it to those evaluees (an after-service rater rates one).

    Nothing is shown yet: send ``Show()`` to display the first card.
    """
    try:
        campaign.group(group)
    except StopIteration:
        raise ValueError(f"campaign '{campaign.id}' has no rater group '{group}'") from None
    evaluees = campaign.evaluees_for(group, unit)
    if only is not None:
        evaluees = [e for e in evaluees if e.key in only]
    if not evaluees:
        where = f" of unit '{unit}'" if unit else " (no unit given)"
        raise ValueError(
            f"a rater of group '{group}'{where} has no evaluee to rate in campaign '{campaign.id}'"
        )
    return QState(
        campaign_id=campaign.id,
        group=group,
        locale=locale if locale in campaign.locales else campaign.default_locale,
        evaluees=[e.key for e in evaluees],
    )


def progress(campaign: Campaign, state: QState) -> tuple[int, int]:
    """(evaluees with every dimension answered, evaluees in total)."""
    return sum(_evaluee_complete(campaign, state, e) for e in state.evaluees), len(state.evaluees)


def is_complete(campaign: Campaign, state: QState) -> bool:
    """Every dimension of every evaluee has an answer (不了解 counts)."""
    return bool(state.evaluees) and all(
        _evaluee_complete(campaign, state, e) for e in state.evaluees
    )


def step(campaign: Campaign, state: QState, event: Event) -> Result:
    """Apply one event; the given state is never modified."""
    if not isinstance(event, Show | Tap | Text | Pause | SetLocale):
        raise TypeError(f"not a questionnaire event: {event!r}")
    s = _normalized(campaign, state)
    if s.phase == "submitted":
        done = t("q.already_submitted", s.locale)
        if isinstance(event, Tap):
            return Result(s, Outcome(toast=done))
        return Result(s, Outcome(messages=[Message(html.escape(done))]))
    if isinstance(event, Tap):
        return _on_tap(campaign, s, event.action)
    if isinstance(event, Text):
        return _on_text(campaign, s, event.text)
    if isinstance(event, Pause):
        s.paused = True
        return Result(s, Outcome(messages=[_pause_message(s)]))
    if isinstance(event, SetLocale):
        old = _current_card(campaign, s, final=True) if s.card > 0 else None
        s.locale = event.locale if event.locale in campaign.locales else campaign.default_locale
        return Result(s, Outcome(messages=_new_card(campaign, s, old)))
    # Show
    s.paused = False
    old = _current_card(campaign, s, final=True) if s.card > 0 else None
    return Result(s, Outcome(messages=_new_card(campaign, s, old)))


# --- state helpers ------------------------------------------------------------------


def _values(campaign: Campaign) -> set[str]:
    return {o.key for o in campaign.scale} | {DONT_KNOW}


def _evaluee_complete(campaign: Campaign, state: QState, key: str) -> bool:
    given = state.answers.get(key, {})
    values = _values(campaign)
    return all(given.get(d.key) in values for d in campaign.dimensions)


def _normalized(campaign: Campaign, state: QState) -> QState:
    """A private copy of ``state``, brought back into range if it was stored by hand or
    the campaign changed under it (unknown keys dropped, positions clamped)."""
    if not state.evaluees:
        raise ValueError("this questionnaire has no evaluees")
    # Shallow copy, then new containers for every mutable field (answers and opinions
    # are rebuilt below): a deep copy cost about a tenth of a tap.
    s = state.model_copy(update={"evaluees": list(state.evaluees)})
    keys = set(s.evaluees)
    dims = {d.key for d in campaign.dimensions}
    values = _values(campaign)
    s.answers = {
        e: {d: v for d, v in a.items() if d in dims and v in values}
        for e, a in s.answers.items()
        if e in keys
    }
    s.opinions = {e: o for e, o in s.opinions.items() if e in keys and o}
    if s.locale not in campaign.locales:
        s.locale = campaign.default_locale
    s.index = min(max(s.index, 0), len(s.evaluees) - 1)
    s.step = min(max(s.step, 0), len(campaign.dimensions))
    s.card = max(s.card, 0)
    if s.phase in ("review", "confirm") and not is_complete(campaign, s):
        _goto_first_incomplete(campaign, s)
    return s


def _goto_first_incomplete(campaign: Campaign, s: QState) -> None:
    for i, e in enumerate(s.evaluees):
        if not _evaluee_complete(campaign, s, e):
            s.phase, s.index, s.step = "answering", i, 0
            return


def _submission(campaign: Campaign, s: QState) -> Submission:
    return Submission(
        group=s.group,
        answers={
            e: {
                d.key: (None if s.answers[e][d.key] == DONT_KNOW else s.answers[e][d.key])
                for d in campaign.dimensions
            }
            for e in s.evaluees
        },
        opinions={e: s.opinions[e] for e in s.evaluees if s.opinions.get(e)},
    )


# --- events -------------------------------------------------------------------------

_ACTION = re.compile(r"([a-z])([0-9]{1,9}(?:\.[0-9]{1,9}){0,3})", re.ASCII)


def _decode(action: object) -> tuple[str, list[int]] | None:
    if not isinstance(action, str) or len(action) > MAX_ACTION:
        return None
    m = _ACTION.fullmatch(action)
    if not m:
        return None
    return m.group(1), [int(n) for n in m.group(2).split(".")]


def _act(op: str, *nums: int) -> str:
    return op + ".".join(str(n) for n in nums)


def _stale(s: QState) -> Result:
    return Result(s, Outcome(toast=t("q.stale", s.locale)))


def _on_tap(campaign: Campaign, s: QState, action: str) -> Result:
    decoded = _decode(action)
    if decoded is None:
        return _stale(s)
    op, nums = decoded
    if nums[0] != s.card or s.card == 0:
        return _stale(s)
    args = nums[1:]
    n_dims = len(campaign.dimensions)

    if s.phase == "answering":
        if len(args) < 2 or args[0] != s.index or args[1] != s.step:
            return _stale(s)
        key = s.evaluees[s.index]
        at_opinion = s.step == n_dims
        if op == "a" and not at_opinion and len(args) == 3 and 0 <= args[2] <= len(campaign.scale):
            o = args[2]
            value = campaign.scale[o].key if o < len(campaign.scale) else DONT_KNOW
            s.paused = False
            s.answers.setdefault(key, {})[campaign.dimensions[s.step].key] = value
            s.step += 1
            return Result(s, Outcome(messages=[_current_card(campaign, s)]))
        if len(args) != 2:
            return _stale(s)
        if op == "b" and (s.index, s.step) != (0, 0):
            s.paused = False
            if s.step > 0:
                s.step -= 1
                return Result(s, Outcome(messages=[_current_card(campaign, s)]))
            old = _current_card(campaign, s, final=True)
            s.index -= 1
            s.step = n_dims
            return Result(s, Outcome(messages=_new_card(campaign, s, old)))
        if op == "k" and not at_opinion:
            s.paused = False
            s.answers[key] = {d.key: DONT_KNOW for d in campaign.dimensions}
            s.opinions.pop(key, None)
            return _finish_evaluee(campaign, s)
        if op == "p" and not at_opinion:
            s.paused = True
            return Result(s, Outcome(messages=[_pause_message(s)]))
        if op == "o" and at_opinion:
            s.paused = False
            return _finish_evaluee(campaign, s)
        if op == "r" and at_opinion and s.opinions.get(key):
            s.paused = False
            del s.opinions[key]
            return _finish_evaluee(campaign, s)
        return _stale(s)

    if s.phase == "review":
        if op == "e" and len(args) == 1 and 0 <= args[0] < len(s.evaluees):
            s.paused = False
            old = _current_card(campaign, s, final=True)
            s.phase, s.index, s.step = "answering", args[0], 0
            return Result(s, Outcome(messages=_new_card(campaign, s, old)))
        if op == "s" and not args:
            s.paused = False
            s.phase = "confirm"
            return Result(s, Outcome(messages=[_current_card(campaign, s)]))
        return _stale(s)

    # confirm
    if op == "x" and not args:
        s.paused = False
        s.phase = "review"
        return Result(s, Outcome(messages=[_current_card(campaign, s)]))
    if op == "c" and not args:
        if not is_complete(campaign, s):  # unreachable through _normalized; kept as a guard
            old = _current_card(campaign, s, final=True)
            _goto_first_incomplete(campaign, s)
            note = Message(html.escape(t("q.incomplete", s.locale)))
            return Result(s, Outcome(messages=[old, note, *_new_card(campaign, s, None)]))
        s.paused = False
        s.phase = "submitted"
        thanks = Message(html.escape(t("q.thanks", s.locale)))
        return Result(
            s,
            Outcome(messages=[_current_card(campaign, s, final=True), thanks]),
            _submission(campaign, s),
        )
    return _stale(s)


def _on_text(campaign: Campaign, s: QState, text: str) -> Result:
    if s.phase == "answering" and s.step == len(campaign.dimensions):
        s.paused = False
        opinion = text.strip()
        if not opinion:
            return Result(
                s, Outcome(messages=[Message(html.escape(t("q.opinion_empty", s.locale)))])
            )
        limit = campaign.opinion.max_chars
        if len(opinion) > limit:
            msg = t("q.opinion_too_long", s.locale, n=len(opinion), max=limit)
            return Result(s, Outcome(messages=[Message(html.escape(msg))]))
        s.opinions[s.evaluees[s.index]] = opinion
        return _finish_evaluee(campaign, s)
    s.paused = False
    old = _current_card(campaign, s, final=True) if s.card > 0 else None
    hint = Message(html.escape(t("q.use_buttons", s.locale)))
    cards = _new_card(campaign, s, old)
    return Result(s, Outcome(messages=[*cards[:-1], hint, cards[-1]]))


def _finish_evaluee(campaign: Campaign, s: QState) -> Result:
    """Leave the current evaluee: to the next one, or to the review once all are done."""
    old = _current_card(campaign, s, final=True)
    if is_complete(campaign, s):
        s.phase = "review"
    elif s.index + 1 < len(s.evaluees):
        s.index += 1
        s.step = 0
    else:
        _goto_first_incomplete(campaign, s)
    return Result(s, Outcome(messages=_new_card(campaign, s, old)))


def _new_card(campaign: Campaign, s: QState, old: Message | None) -> list[Message]:
    """Start a new card for the current position (the old one, if any, first)."""
    s.card += 1
    return [*([old] if old is not None else []), _current_card(campaign, s)]


def _pause_message(s: QState) -> Message:
    return Message(html.escape(t("q.paused", s.locale)))


# --- rendering ------------------------------------------------------------------------


def _esc(text: str, max_chars: int, max_len: int | None = None, *, oneline: bool = True) -> str:
    """``text`` HTML-escaped, cut to ``max_chars`` characters and ``max_len`` escaped
    characters (with "…" when cut)."""
    if oneline:
        text = " ".join(text.split())
    max_len = max_chars * 6 if max_len is None else max_len
    full = html.escape(text)
    if len(text) <= max_chars and len(full) <= max_len:
        return full
    out: list[str] = []
    used = 0
    for n, ch in enumerate(text):
        e = html.escape(ch)
        if n + 1 > max_chars - 1 or used + len(e) > max_len - 1:
            break
        out.append(e)
        used += len(e)
    return "".join(out) + "…"


def _label(text: str, fallback: str, max_chars: int = 60) -> str:
    """A button label: plain text, one line, never empty."""
    text = " ".join(text.split()) or " ".join(fallback.split()) or "?"
    return text if len(text) <= max_chars else text[: max_chars - 1] + "…"


def _fit(head: list[str], middle: list[str], tail: list[str], locale: str) -> str:
    """Join the parts with newlines within MAX_TEXT, dropping middle parts if need be.

    Every part is self-contained HTML (tags closed within it), so dropping whole parts
    keeps the markup valid.
    """
    text = "\n".join(head + middle + tail)
    if len(text) <= MAX_TEXT:
        return text
    kept = list(middle)
    while kept:
        kept.pop()
        more = html.escape(t("common.more", locale, n=len(middle) - len(kept)))
        text = "\n".join(head + kept + [more] + tail)
        if len(text) <= MAX_TEXT:
            return text
    # Only reachable if head and tail alone are too long, which the budgets prevent:
    # fall back to plain text, cut outside any entity.
    text = re.sub(r"</?[bi]>", "", text)[: MAX_TEXT - 1]
    amp = text.rfind("&")
    if amp != -1 and ";" not in text[amp:]:
        text = text[:amp]
    return text + "…"


def _evaluee_name(campaign: Campaign, key: str, locale: str) -> str:
    try:
        e = campaign.evaluee(key)
    except StopIteration:
        return key
    return " ".join(campaign.text(e.name, locale).split()) or key


def _scale_label(campaign: Campaign, value: str, locale: str) -> str:
    if value == DONT_KNOW:
        return " ".join(campaign.text(campaign.dont_know, locale).split()) or t(
            "q.incomplete_mark", locale
        )
    for o in campaign.scale:
        if o.key == value:
            return " ".join(campaign.text(o.label, locale).split()) or o.key
    return value


def _dim_label(campaign: Campaign, i: int, locale: str) -> str:
    d = campaign.dimensions[i]
    return " ".join(campaign.text(d.label, locale).split()) or d.key


def _opinion_excerpt(opinion: str) -> str:
    return f"<i>{_esc(opinion, 300, 1200, oneline=False)}</i>"


def _current_card(campaign: Campaign, s: QState, final: bool = False) -> Message:
    if s.phase == "answering":
        return _evaluee_card(campaign, s, final)
    return _review_card(campaign, s, final)


def _evaluee_card(campaign: Campaign, s: QState, final: bool) -> Message:
    loc = s.locale
    key = s.evaluees[s.index]
    n_dims = len(campaign.dimensions)
    colon = t("common.colon", loc)

    title = f"{s.index + 1}/{len(s.evaluees)} · {_evaluee_name(campaign, key, loc)}"
    head = [f"<b>{_esc(title, 120, 500)}</b>"]
    try:
        e = campaign.evaluee(key)
    except StopIteration:
        e = None
    if e is not None:
        about = []
        duties = campaign.text(e.duties, loc).strip()
        if duties:
            about.append(t("q.duties", loc, text=duties))
        commitments = "；".join(
            c for c in (campaign.text(x, loc).strip() for x in e.commitments) if c
        )
        if commitments:
            about.append(t("q.commitments", loc, text=commitments))
        if about:
            head.append(f"<i>{_esc(' '.join(about), 200, 700)}</i>")

    given = s.answers.get(key, {})
    middle = []
    for i, d in enumerate(campaign.dimensions):
        if d.key in given and (final or i != s.step):
            label = _esc(_dim_label(campaign, i, loc), 60, 200)
            answer = _esc(_scale_label(campaign, given[d.key], loc), 30, 120)
            middle.append(f"✔ {label}{html.escape(colon)}{answer}")

    tail: list[str] = []
    opinion = s.opinions.get(key, "")
    buttons: tuple[tuple[Button, ...], ...] = ()
    if final:
        if opinion:
            tail.append(html.escape(t("q.opinion", loc)) + _opinion_excerpt(opinion))
        elif all(d.key in given for d in campaign.dimensions):
            tail.append(html.escape(t("q.opinion_none", loc)))
    elif s.step < n_dims:
        d = campaign.dimensions[s.step]
        question = t(
            "q.question", loc, label=_dim_label(campaign, s.step, loc), i=s.step + 1, n=n_dims
        )
        tail += ["", f"<b>{_esc(question, 200, 600)}</b>"]
        hint = campaign.text(d.hint, loc).strip()
        if hint:
            tail.append(f"<i>{_esc(hint, 300, 900)}</i>")
        buttons = _dimension_buttons(campaign, s, given.get(d.key))
    else:
        prompt = campaign.text(campaign.opinion.prompt, loc).strip() or t("q.opinion_prompt", loc)
        tail += ["", f"<b>{_esc(prompt, 200, 700)}</b>"]
        tail.append(html.escape(t("q.opinion_howto", loc, max=campaign.opinion.max_chars)))
        if opinion:
            tail.append(html.escape(t("q.opinion_current", loc)) + _opinion_excerpt(opinion))
        buttons = _opinion_buttons(s, bool(opinion))
    return Message(_fit(head, middle, tail, loc), buttons, f"q{s.card}")


def _dimension_buttons(
    campaign: Campaign, s: QState, current: str | None
) -> tuple[tuple[Button, ...], ...]:
    loc = s.locale
    options: list[Button] = []
    for o, opt in enumerate(campaign.scale):
        label = _label(campaign.text(opt.label, loc), opt.key)
        options.append(
            Button(
                ("✓ " if current == opt.key else "") + label, _act("a", s.card, s.index, s.step, o)
            )
        )
    dk = _label(campaign.text(campaign.dont_know, loc), t("q.incomplete_mark", loc))
    options.append(
        Button(
            ("✓ " if current == DONT_KNOW else "") + dk,
            _act("a", s.card, s.index, s.step, len(campaign.scale)),
        )
    )
    rows = [tuple(options[i : i + 2]) for i in range(0, len(options), 2)]
    control = []
    if (s.index, s.step) != (0, 0):
        control.append(Button(t("q.back", loc), _act("b", s.card, s.index, s.step)))
    control.append(Button(t("q.skip_evaluee", loc), _act("k", s.card, s.index, s.step)))
    control.append(Button(t("q.pause", loc), _act("p", s.card, s.index, s.step)))
    rows.append(tuple(control))
    return tuple(rows)


def _opinion_buttons(s: QState, has_opinion: bool) -> tuple[tuple[Button, ...], ...]:
    loc = s.locale
    first = [
        Button(
            t("q.keep_opinion" if has_opinion else "q.skip", loc),
            _act("o", s.card, s.index, s.step),
        )
    ]
    if has_opinion:
        first.append(Button(t("q.clear_opinion", loc), _act("r", s.card, s.index, s.step)))
    return (tuple(first), (Button(t("q.back", loc), _act("b", s.card, s.index, s.step)),))


# Review line budgets, tried in turn until the review fits one message:
# (name chars, scale label chars, opinion excerpt chars).
_REVIEW_LEVELS = ((40, 20, 60), (24, 12, 24), (16, 8, 0), (10, 4, 0))


def _review_lines(
    campaign: Campaign, s: QState, name_chars: int, label_chars: int, excerpt: int
) -> list[str]:
    loc = s.locale
    colon = html.escape(t("common.colon", loc))
    lines = []
    for n, key in enumerate(s.evaluees, 1):
        name = _esc(_evaluee_name(campaign, key, loc), name_chars, name_chars * 3)
        given = s.answers.get(key, {})
        if _evaluee_complete(campaign, s, key):
            counts = []
            for value in [o.key for o in campaign.scale] + [DONT_KNOW]:
                k = sum(1 for d in campaign.dimensions if given.get(d.key) == value)
                if k:
                    label = _scale_label(campaign, value, loc)
                    label = label if len(label) <= label_chars else label[: label_chars - 1] + "…"
                    counts.append(html.escape(t("q.count", loc, label=label, n=k)))
            summary = " ".join(counts)
        else:
            summary = html.escape(t("q.incomplete_mark", loc))
        line = f"{n}. <b>{name}</b>{colon}{summary}"
        opinion = s.opinions.get(key)
        if opinion:
            line += " · " + html.escape(t("q.opinion_mark", loc))
            if excerpt:
                line += f"{colon}<i>{_esc(opinion, excerpt, excerpt * 3)}</i>"
        lines.append(line)
    return lines


def _review_card(campaign: Campaign, s: QState, final: bool) -> Message:
    loc = s.locale
    head = [f"<b>{html.escape(t('q.review_title', loc, n=len(s.evaluees)))}</b>", ""]
    buttons: tuple[tuple[Button, ...], ...] = ()
    if s.phase == "submitted":
        tail = ["", f"<b>{html.escape(t('q.submitted_mark', loc))}</b>"]
    elif final:
        tail = []
    elif s.phase == "confirm":
        tail = ["", f"<b>{html.escape(t('q.confirm_question', loc))}</b>"]
        buttons = (
            (
                Button(t("q.confirm", loc), _act("c", s.card)),
                Button(t("q.cancel", loc), _act("x", s.card)),
            ),
        )
    else:
        tail = ["", html.escape(t("q.review_hint", loc))]
        edits = [
            Button(t("q.edit", loc, n=i + 1), _act("e", s.card, i)) for i in range(len(s.evaluees))
        ]
        rows = [tuple(edits[i : i + 4]) for i in range(0, len(edits), 4)]
        buttons = (*rows, (Button(t("q.submit", loc), _act("s", s.card)),))
    for level in _REVIEW_LEVELS:
        middle = _review_lines(campaign, s, *level)
        if len("\n".join(head + middle + tail)) <= MAX_TEXT:
            break
    return Message(_fit(head, middle, tail, loc), buttons, f"q{s.card}")
