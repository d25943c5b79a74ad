"""The rater questionnaire (DESIGN.md §1 step 4) as a pure state machine.

``step(campaign, state, event) -> Step`` is the whole engine: no I/O, no Telegram.
The adapter turns a Telegram update into an event, stores ``Step.state``, sends or
edits ``Step.outcome.messages`` and answers a button press with ``outcome.toast``;
its one effect, ``SealBallot`` (once, on the final confirmation), becomes a sealed ballot.

The rater sees one CARD per evaluee (``Message.card == f"q{state.card}"``), edited in
place while they answer its dimensions and opinion. Moving to another evaluee, to the
review, or re-showing the card (Show, SetLocale, stray text) starts a new card; the card
being left is emitted once more in its final form without buttons, so that no stale
buttons stay in the chat.

Pre-selection (``QState.preselect``, decided by ``start``): a rater with many evaluees
first picks, on a paged toggle list grouped by category, the evaluees they know; only
those are walked, the others count as 不了解 on every dimension without a tap. Picks can
be changed from the review, which is paged too, so every card stays within Telegram's
limits at any number of evaluees.

Button actions (ASCII, at most 48 bytes): an op letter, the card sequence, then the
position, separated by dots. Picking: ``t{card}.{page}.{i}`` toggle evaluee ``i``,
``g{card}.{page}.{to}`` go to page ``to``, ``h{card}.{page}.{c}`` a category heading (a hint
only), ``d{card}.{page}`` done. Answering phase: ``a{card}.{i}.{s}.{o}`` answer option
``o`` (``o == len(scale)`` is 不了解), ``w{card}.{i}.0.{o}`` option ``o`` for every dimension
(on the first step), ``b{card}.{i}.{s}`` back, ``k{card}.{i}.{s}`` skip the evaluee,
``p{card}.{i}.{s}`` pause, ``o{card}.{i}.{s}`` leave the opinion step keeping the opinion
(skip), ``r{card}.{i}.{s}`` delete the opinion and go on. Review: ``e{card}.{i}`` edit
evaluee ``i``, ``v{card}.{page}.{to}`` another page, ``m{card}`` change the picks,
``s{card}`` submit. Confirmation: ``c{card}`` confirm, ``x{card}`` cancel. A tap that does
not decode or does not match the current card, phase and position is stale: nothing
changes and only a toast answers it.

``Apply`` is the Mini App's event: edits of answers, picks and opinions in one go, and
optionally the submit (the app asks for the confirmation itself).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, Field

from flows import actions
from flows.campaign import Campaign
from flows.i18n import t
from flows.messages import Button, Message, Outcome, Step

DONT_KNOW = "dont_know"  # answer value meaning 不了解 (not a vote)

MAX_TEXT = 4096  # Telegram's limit for a message text
PICK_PAGE = 20  # evaluees per page of the pick list
REVIEW_PAGE = 20  # evaluees per page of the review
SECONDS_PER_ANSWER = 6  # the estimate of a rater's time, per dimension of an evaluee

Phase = Literal["picking", "answering", "review", "confirm", "submitted"]


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
    # Pre-selection (states stored before it existed load with these defaults).
    preselect: bool = False  # the rater rates only the evaluees they picked
    picked: list[str] = Field(default_factory=list)  # in the order of ``evaluees``
    page: int = 0  # the page of the pick list or of the review on screen


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


@dataclass(frozen=True)
class Apply:
    """Edits from the Mini App, all or nothing: answers per evaluee and dimension (a scale
    key, ``DONT_KNOW``, or None to clear), picks (evaluee -> picked), opinions ("" deletes);
    with ``submit`` the questionnaire is then submitted if complete."""

    answers: Mapping[str, Mapping[str, str | None]] = field(default_factory=dict)
    picks: Mapping[str, bool] = field(default_factory=dict)
    opinions: Mapping[str, str] = field(default_factory=dict)
    submit: bool = False


Event = Show | Tap | Text | Pause | SetLocale | Apply


@dataclass(frozen=True)
class SealBallot:
    """What storage turns into a ballot; a ``None`` answer is 不了解."""

    group: str
    answers: dict[str, dict[str, str | None]]
    opinions: dict[str, str]


def sealed(result: Step) -> SealBallot | None:
    """The ballot a step asks to seal, if any."""
    return next((e for e in result.effects if isinstance(e, SealBallot)), None)


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
    preselect = uses_preselection(campaign, group, len(evaluees), only is not None)
    if preselect:  # the pick list is grouped by category: walk in the same order
        order = {c.key: n for n, c in enumerate(campaign.categories)}
        evaluees = sorted(evaluees, key=lambda e: order.get(e.category, len(order)))
    return QState(
        campaign_id=campaign.id,
        group=group,
        locale=locale if locale in campaign.locales else campaign.default_locale,
        evaluees=[e.key for e in evaluees],
        phase="picking" if preselect else "answering",
        preselect=preselect,
    )


def uses_preselection(campaign: Campaign, group: str, n_evaluees: int, after_service: bool = False) -> bool:
    """Whether a rater of ``group`` with ``n_evaluees`` picks the ones they know first.
    Own-unit staff and after-service raters never do: they rate their own one."""
    if after_service or campaign.group(group).rates == "own_unit":
        return False
    return campaign.preselects(n_evaluees)


def estimate_minutes(campaign: Campaign, n_evaluees: int) -> int:
    """The minutes a rater needs for ``n_evaluees`` (at least 1)."""
    return max(1, round(n_evaluees * len(campaign.dimensions) * SECONDS_PER_ANSWER / 60))


def rated(state: QState) -> list[str]:
    """The evaluees the rater answers: all of them, or the picked ones."""
    if not state.preselect:
        return list(state.evaluees)
    picked = set(state.picked)
    return [e for e in state.evaluees if e in picked]


def progress(campaign: Campaign, state: QState) -> tuple[int, int]:
    """(rated evaluees with every dimension answered, rated evaluees in total)."""
    keys = rated(state)
    return sum(_evaluee_complete(campaign, state, e) for e in keys), len(keys)


def is_complete(campaign: Campaign, state: QState) -> bool:
    """Every dimension of every rated evaluee has an answer (不了解 counts); with
    pre-selection the unpicked ones need none."""
    return bool(state.evaluees) and all(
        _evaluee_complete(campaign, state, e) for e in rated(state)
    )


def step(campaign: Campaign, state: QState, event: Event) -> Step:
    """Apply one event; the given state is never modified."""
    if not isinstance(event, Show | Tap | Text | Pause | SetLocale | Apply):
        raise TypeError(f"not a questionnaire event: {event!r}")
    s = _normalized(campaign, state)
    if s.phase == "submitted":
        done = t("q.already_submitted", s.locale)
        if isinstance(event, Tap | Apply):
            return Step(s, Outcome(toast=done))
        return Step(s, Outcome(messages=[Message(html.escape(done))]))
    if isinstance(event, Apply):
        return _on_apply(campaign, s, event)
    if isinstance(event, Tap):
        return _on_tap(campaign, s, event.action)
    if isinstance(event, Text):
        return _on_text(campaign, s, event.text)
    if isinstance(event, Pause):
        s.paused = True
        return Step(s, Outcome(messages=[_pause_message(s)]))
    if isinstance(event, SetLocale):
        old = _current_card(campaign, s, final=True) if s.card > 0 else None
        s.locale = event.locale if event.locale in campaign.locales else campaign.default_locale
        return Step(s, Outcome(messages=_new_card(campaign, s, old)))
    # Show
    s.paused = False
    old = _current_card(campaign, s, final=True) if s.card > 0 else None
    return Step(s, Outcome(messages=_new_card(campaign, s, old)))


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
    s.page = max(s.page, 0)
    if s.preselect:
        picked = set(s.picked)
        s.picked = [e for e in s.evaluees if e in picked]
    else:
        s.picked = []
        if s.phase == "picking":
            s.phase = "answering"
    if s.phase in ("review", "confirm") and not is_complete(campaign, s):
        _goto_first_incomplete(campaign, s)
    elif s.phase == "answering" and s.preselect and s.evaluees[s.index] not in set(s.picked):
        _goto_first_incomplete(campaign, s)
    return s


def _rated_idx(s: QState) -> list[int]:
    if not s.preselect:
        return list(range(len(s.evaluees)))
    picked = set(s.picked)
    return [i for i, e in enumerate(s.evaluees) if e in picked]


def _goto_first_incomplete(campaign: Campaign, s: QState) -> None:
    """To the first rated evaluee with a missing answer, or to the review if none."""
    for i in _rated_idx(s):
        if not _evaluee_complete(campaign, s, s.evaluees[i]):
            s.phase, s.index, s.step = "answering", i, 0
            return
    s.phase = "review"
    s.page = 0


def _submission(campaign: Campaign, s: QState) -> SealBallot:
    keys = set(rated(s))  # an evaluee not picked is 不了解 on every dimension
    return SealBallot(
        group=s.group,
        answers={
            e: {
                d.key: (
                    None
                    if e not in keys or s.answers[e][d.key] == DONT_KNOW
                    else s.answers[e][d.key]
                )
                for d in campaign.dimensions
            }
            for e in s.evaluees
        },
        opinions={e: s.opinions[e] for e in s.evaluees if e in keys and s.opinions.get(e)},
    )


# --- events -------------------------------------------------------------------------

_ACTION = re.compile(r"([a-z])([0-9]{1,9}(?:\.[0-9]{1,9}){0,3})", re.ASCII)
# Each step of the questionnaire is one lower-case letter: a answer, b back, c confirm,
# d picks done, e edit, g pick page, h answer-all, k skip, m change picks, o opinion,
# p pause, r clear opinion, s submit, t toggle pick, v review page, w write, x cancel.
OPS = actions.claim("questionnaire", *"abcdeghkmoprstvwx")


def _decode(action: object) -> tuple[str, list[int]] | None:
    if not isinstance(action, str) or len(action) > actions.MAX_BYTES:
        return None
    m = _ACTION.fullmatch(action)
    if not m:
        return None
    return m.group(1), [int(n) for n in m.group(2).split(".")]


def _act(op: str, *nums: int) -> str:
    return actions.pack(op, *nums)


def _stale(s: QState) -> Step:
    return Step(s, Outcome(toast=t("q.stale", s.locale)))


def _on_tap(campaign: Campaign, s: QState, action: str) -> Step:
    decoded = _decode(action)
    if decoded is None:
        return _stale(s)
    op, nums = decoded
    if nums[0] != s.card or s.card == 0:
        return _stale(s)
    args = nums[1:]
    if s.phase == "picking":
        return _on_pick_tap(campaign, s, op, args)
    if s.phase == "answering":
        return _on_answer_tap(campaign, s, op, args)
    if s.phase == "review":
        return _on_review_tap(campaign, s, op, args)

    # confirm
    if op == "x" and not args:
        s.paused = False
        s.phase = "review"
        return Step(s, Outcome(messages=[_current_card(campaign, s)]))
    if op == "c" and not args:
        if not is_complete(campaign, s):  # unreachable through _normalized; kept as a guard
            old = _current_card(campaign, s, final=True)
            _goto_first_incomplete(campaign, s)
            note = Message(html.escape(t("q.incomplete", s.locale)))
            return Step(s, Outcome(messages=[old, note, *_new_card(campaign, s, None)]))
        s.paused = False
        s.phase = "submitted"
        thanks = Message(html.escape(t("q.thanks", s.locale)))
        return Step(
            s,
            Outcome(messages=[_current_card(campaign, s, final=True), thanks]),
            (_submission(campaign, s),),
        )
    return _stale(s)


def _on_pick_tap(campaign: Campaign, s: QState, op: str, args: list[int]) -> Step:
    pages = _pick_pages(campaign, s)
    s.page = min(s.page, len(pages) - 1)
    if not args or args[0] != s.page:
        return _stale(s)
    here = pages[s.page]
    if op == "t" and len(args) == 2 and args[1] in here:
        s.paused = False
        key = s.evaluees[args[1]]
        picked = set(s.picked)
        picked ^= {key}
        s.picked = [e for e in s.evaluees if e in picked]
        return Step(s, Outcome(messages=[_current_card(campaign, s)]))
    if op == "g" and len(args) == 2 and 0 <= args[1] < len(pages) and args[1] != s.page:
        s.paused = False
        s.page = args[1]
        return Step(s, Outcome(messages=[_current_card(campaign, s)]))
    if op == "h" and len(args) == 2 and 0 <= args[1] < len(campaign.categories):
        return Step(s, Outcome(toast=t("q.pick_heading", s.locale)))
    if op == "d" and len(args) == 1:
        s.paused = False
        old = _current_card(campaign, s, final=True)
        _goto_first_incomplete(campaign, s)
        return Step(s, Outcome(messages=_new_card(campaign, s, old)))
    return _stale(s)


def _on_answer_tap(campaign: Campaign, s: QState, op: str, args: list[int]) -> Step:
    if len(args) < 2 or args[0] != s.index or args[1] != s.step:
        return _stale(s)
    n_dims = len(campaign.dimensions)
    key = s.evaluees[s.index]
    at_opinion = s.step == n_dims
    if op == "a" and not at_opinion and len(args) == 3 and 0 <= args[2] <= len(campaign.scale):
        o = args[2]
        value = campaign.scale[o].key if o < len(campaign.scale) else DONT_KNOW
        s.paused = False
        s.answers.setdefault(key, {})[campaign.dimensions[s.step].key] = value
        s.step += 1
        return Step(s, Outcome(messages=[_current_card(campaign, s)]))
    if op == "w" and _shortcut(campaign, s) and len(args) == 3 and 0 <= args[2] < len(campaign.scale):
        s.paused = False
        value = campaign.scale[args[2]].key
        s.answers[key] = {d.key: value for d in campaign.dimensions}
        s.step = n_dims  # on to the opinion; Back still reaches every dimension
        return Step(s, Outcome(messages=[_current_card(campaign, s)]))
    if len(args) != 2:
        return _stale(s)
    if op == "b" and _can_go_back(s):
        s.paused = False
        if s.step > 0:
            s.step -= 1
            return Step(s, Outcome(messages=[_current_card(campaign, s)]))
        old = _current_card(campaign, s, final=True)
        before = [i for i in _rated_idx(s) if i < s.index]
        if before:
            s.index, s.step = before[-1], n_dims
        else:  # back from the first evaluee to the pick list
            s.phase, s.page = "picking", _pick_page_of(campaign, s, s.index)
        return Step(s, Outcome(messages=_new_card(campaign, s, old)))
    if op == "k" and not at_opinion:
        s.paused = False
        s.answers[key] = {d.key: DONT_KNOW for d in campaign.dimensions}
        s.opinions.pop(key, None)
        return _finish_evaluee(campaign, s)
    if op == "p" and not at_opinion:
        s.paused = True
        return Step(s, Outcome(messages=[_pause_message(s)]))
    if op == "o" and at_opinion:
        s.paused = False
        return _finish_evaluee(campaign, s)
    if op == "r" and at_opinion and s.opinions.get(key):
        s.paused = False
        del s.opinions[key]
        return _finish_evaluee(campaign, s)
    return _stale(s)


def _on_review_tap(campaign: Campaign, s: QState, op: str, args: list[int]) -> Step:
    pages = _review_pages(s)
    s.page = min(s.page, len(pages) - 1)
    if op == "e" and len(args) == 1 and args[0] in pages[s.page]:
        s.paused = False
        old = _current_card(campaign, s, final=True)
        s.phase, s.index, s.step = "answering", args[0], 0
        return Step(s, Outcome(messages=_new_card(campaign, s, old)))
    if op == "v" and len(args) == 2 and args[0] == s.page and 0 <= args[1] < len(pages) and args[1] != s.page:
        s.paused = False
        s.page = args[1]
        return Step(s, Outcome(messages=[_current_card(campaign, s)]))
    if op == "m" and not args and s.preselect:
        s.paused = False
        old = _current_card(campaign, s, final=True)
        s.phase, s.page = "picking", 0
        return Step(s, Outcome(messages=_new_card(campaign, s, old)))
    if op == "s" and not args:
        s.paused = False
        s.phase = "confirm"
        return Step(s, Outcome(messages=[_current_card(campaign, s)]))
    return _stale(s)


def _shortcut(campaign: Campaign, s: QState) -> bool:
    """The "all dimensions: <option>" row is on the first step of an evaluee."""
    return s.step == 0 and len(campaign.dimensions) > 1


def _can_go_back(s: QState) -> bool:
    if s.step > 0 or s.preselect:
        return True
    return s.index != _rated_idx(s)[0]


def _on_apply(campaign: Campaign, s: QState, event: Apply) -> Step:
    """The Mini App's edits: checked as a whole first (a forged or stale request
    changes nothing), then applied; the chat continues from the result."""
    keys = set(s.evaluees)
    dims = {d.key for d in campaign.dimensions}
    values = _values(campaign)
    invalid = Step(s, Outcome(toast=t("q.app_invalid", s.locale)))
    try:
        answers = {e: dict(a) for e, a in event.answers.items()}
        picks = dict(event.picks)
        opinions = dict(event.opinions)
    except (TypeError, ValueError, AttributeError):
        return invalid
    try:
        for e, given in answers.items():
            if e not in keys or not all(d in dims and (v is None or v in values) for d, v in given.items()):
                return invalid
        if picks and not s.preselect:
            return invalid
        if not all(e in keys and isinstance(p, bool) for e, p in picks.items()):
            return invalid
        if not all(e in keys and isinstance(o, str) for e, o in opinions.items()):
            return invalid
    except TypeError:  # unhashable keys or values from a forged request
        return invalid
    limit = campaign.opinion.max_chars
    for o in opinions.values():
        if len(o.strip()) > limit:
            msg = t("q.opinion_too_long", s.locale, n=len(o.strip()), max=limit)
            return Step(s, Outcome(toast=msg))

    if picks:
        picked = set(s.picked) | {e for e, p in picks.items() if p}
        picked -= {e for e, p in picks.items() if not p}
        s.picked = [e for e in s.evaluees if e in picked]
    for e, given in answers.items():
        mine = s.answers.setdefault(e, {})
        for d, v in given.items():
            if v is None:
                mine.pop(d, None)
            else:
                mine[d] = v
    for e, o in opinions.items():
        if o.strip():
            s.opinions[e] = o.strip()
        else:
            s.opinions.pop(e, None)
    s.answers = {e: a for e, a in s.answers.items() if a}
    # Keep the chat's position valid: an unpicked or now-incomplete place moves on.
    if s.phase in ("review", "confirm") and not is_complete(campaign, s):
        _goto_first_incomplete(campaign, s)
    elif s.phase == "answering" and (
        s.evaluees[s.index] not in set(rated(s)) or is_complete(campaign, s)
    ):
        _goto_first_incomplete(campaign, s)
    if not event.submit:
        return Step(s, Outcome())
    if not is_complete(campaign, s):
        return Step(s, Outcome(toast=t("q.incomplete", s.locale)))
    s.paused = False
    s.phase = "submitted"
    return Step(s, Outcome(messages=[Message(html.escape(t("q.thanks", s.locale)))]), (_submission(campaign, s),))


def _on_text(campaign: Campaign, s: QState, text: str) -> Step:
    if s.phase == "answering" and s.step == len(campaign.dimensions):
        s.paused = False
        opinion = text.strip()
        if not opinion:
            return Step(
                s, Outcome(messages=[Message(html.escape(t("q.opinion_empty", s.locale)))])
            )
        limit = campaign.opinion.max_chars
        if len(opinion) > limit:
            msg = t("q.opinion_too_long", s.locale, n=len(opinion), max=limit)
            return Step(s, Outcome(messages=[Message(html.escape(msg))]))
        s.opinions[s.evaluees[s.index]] = opinion
        return _finish_evaluee(campaign, s)
    s.paused = False
    old = _current_card(campaign, s, final=True) if s.card > 0 else None
    hint = Message(html.escape(t("q.use_buttons", s.locale)))
    cards = _new_card(campaign, s, old)
    return Step(s, Outcome(messages=[*cards[:-1], hint, cards[-1]]))


def _finish_evaluee(campaign: Campaign, s: QState) -> Step:
    """Leave the current evaluee: to the next one, or to the review once all are done."""
    old = _current_card(campaign, s, final=True)
    after = [i for i in _rated_idx(s) if i > s.index]
    if is_complete(campaign, s):
        s.phase = "review"
        s.page = _review_page_of(s, s.index)
    elif after:
        s.index = after[0]
        s.step = 0
    else:
        _goto_first_incomplete(campaign, s)
    return Step(s, Outcome(messages=_new_card(campaign, s, old)))


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
    if s.phase == "picking":
        return _pick_card(campaign, s, final)
    if s.phase == "answering":
        return _evaluee_card(campaign, s, final)
    return _review_card(campaign, s, final)


# --- the pick list ----------------------------------------------------------------------


def _categories(campaign: Campaign, s: QState) -> list[int]:
    """Per evaluee of ``s.evaluees``: the position of its category (unknown: last)."""
    order = {c.key: n for n, c in enumerate(campaign.categories)}
    by_key = {e.key: e.category for e in campaign.evaluees}
    return [order.get(by_key.get(k, ""), len(order)) for k in s.evaluees]


def _pick_pages(campaign: Campaign, s: QState) -> list[list[int]]:
    """Indices into ``s.evaluees`` per page, grouped by category."""
    cats = _categories(campaign, s)
    ordered = sorted(range(len(s.evaluees)), key=lambda i: cats[i])
    return [ordered[n : n + PICK_PAGE] for n in range(0, len(ordered), PICK_PAGE)]


def _pick_page_of(campaign: Campaign, s: QState, index: int) -> int:
    return next((n for n, page in enumerate(_pick_pages(campaign, s)) if index in page), 0)


def _names(campaign: Campaign, keys: list[str], locale: str, budget: int = 600) -> str:
    """Evaluee names joined for a sentence, cut with "…" within ``budget`` characters."""
    sep = t("q.list_sep", locale)
    out, used = [], 0
    for k in keys:
        name = _evaluee_name(campaign, k, locale)
        if used + len(name) > budget:
            out.append("…")
            break
        out.append(name)
        used += len(name) + len(sep)
    return sep.join(out)


def _pick_card(campaign: Campaign, s: QState, final: bool) -> Message:
    loc = s.locale
    pages = _pick_pages(campaign, s)
    s.page = min(s.page, len(pages) - 1)
    k = len(s.picked)
    if final:
        if k:
            text = t("q.picked_summary", loc, k=k, n=len(s.evaluees), names=_names(campaign, s.picked, loc),
                     minutes=estimate_minutes(campaign, k))
        else:
            text = t("q.picked_none", loc, n=len(s.evaluees))
        return Message(_esc(text, 1500, 4000, oneline=False), (), f"q{s.card}")
    cats = _categories(campaign, s)
    here = pages[s.page]
    head = [
        f"<b>{html.escape(t('q.pick_title', loc, page=s.page + 1, pages=len(pages)))}</b>",
        html.escape(t("q.pick_intro", loc, n=len(s.evaluees),
                      seconds=len(campaign.dimensions) * SECONDS_PER_ANSWER)),
    ]
    labels = [c.label for c in campaign.categories]
    on_page = []
    for c in dict.fromkeys(cats[i] for i in here):
        on_page.append(_esc(campaign.text(labels[c], loc), 30, 120) if c < len(labels) else "…")
    head.append(html.escape(t("q.pick_on_page", loc)) + html.escape(t("q.list_sep", loc)).join(on_page))
    if k:
        picked = html.escape(t("q.pick_count", loc, k=k)) + _esc(_names(campaign, s.picked, loc), 800, 3000)
        head.append(picked)

    picked_set = set(s.picked)
    rows: list[tuple[Button, ...]] = []
    segment: list[Button] = []

    def flush() -> None:
        wide = any(_width(b.label) > 16 for b in segment)
        step = 1 if wide else 2
        rows.extend(tuple(segment[n : n + step]) for n in range(0, len(segment), step))
        segment.clear()

    current = None
    for i in here:
        if cats[i] != current:
            flush()
            current = cats[i]
            name = campaign.text(labels[current], loc) if current < len(labels) else "…"
            rows.append((Button(_label(f"— {' '.join(name.split())} —", "—"),
                                _act("h", s.card, s.page, min(current, len(labels) - 1))),))
        key = s.evaluees[i]
        mark = "✓ " if key in picked_set else ""
        segment.append(Button(mark + _label(_evaluee_name(campaign, key, loc), key, 40), _act("t", s.card, s.page, i)))
    flush()
    nav = []
    if s.page > 0:
        nav.append(Button(t("q.page_prev", loc), _act("g", s.card, s.page, s.page - 1)))
    if s.page + 1 < len(pages):
        nav.append(Button(t("q.page_next", loc), _act("g", s.card, s.page, s.page + 1)))
    if nav:
        rows.append(tuple(nav))
    done = t("q.pick_done", loc, k=k) if k else t("q.pick_none", loc)
    rows.append((Button(done, _act("d", s.card, s.page)),))
    return Message(_fit(head, [], [], loc), tuple(rows), f"q{s.card}")


def _width(text: str) -> int:
    """Display width of a button label: CJK characters count twice."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _evaluee_card(campaign: Campaign, s: QState, final: bool) -> Message:
    loc = s.locale
    key = s.evaluees[s.index]
    n_dims = len(campaign.dimensions)
    colon = t("common.colon", loc)

    order = _rated_idx(s)
    position = order.index(s.index) + 1 if s.index in order else s.index + 1
    title = f"{position}/{len(order)} · {_evaluee_name(campaign, key, loc)}"
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
    if _shortcut(campaign, s):
        every = [
            Button(_label(t("q.all", loc, label=campaign.text(opt.label, loc)), opt.key),
                   _act("w", s.card, s.index, s.step, o))
            for o, opt in enumerate(campaign.scale)
        ]
        rows += [tuple(every[i : i + 2]) for i in range(0, len(every), 2)]
    control = []
    if _can_go_back(s):
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


def _review_pages(s: QState) -> list[list[int]]:
    """Indices into ``s.evaluees`` of the rated evaluees, per review page (at least one page)."""
    order = _rated_idx(s)
    return [order[n : n + REVIEW_PAGE] for n in range(0, len(order), REVIEW_PAGE)] or [[]]


def _review_page_of(s: QState, index: int) -> int:
    return next((n for n, page in enumerate(_review_pages(s)) if index in page), 0)


def _review_lines(
    campaign: Campaign, s: QState, name_chars: int, label_chars: int, excerpt: int
) -> list[str]:
    loc = s.locale
    colon = html.escape(t("common.colon", loc))
    order = _rated_idx(s)
    pages = _review_pages(s)
    lines = []
    for i in pages[min(s.page, len(pages) - 1)]:
        n = order.index(i) + 1
        key = s.evaluees[i]
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
    pages = _review_pages(s)
    s.page = min(s.page, len(pages) - 1)
    n_rated = sum(len(p) for p in pages)
    head = [f"<b>{html.escape(t('q.review_title', loc, n=n_rated))}</b>"]
    if s.preselect:
        unpicked = len(s.evaluees) - n_rated
        if not n_rated:
            head.append(html.escape(t("q.review_none_picked", loc, n=len(s.evaluees))))
        elif unpicked:
            head.append(html.escape(t("q.review_unpicked", loc, n=unpicked)))
    if len(pages) > 1:
        head.append(html.escape(t("q.page_of", loc, page=s.page + 1, pages=len(pages))))
    head.append("")
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
        tail = ["", html.escape(t("q.review_hint_picks" if s.preselect else "q.review_hint", loc))]
        order = _rated_idx(s)
        edits = [
            Button(t("q.edit", loc, n=order.index(i) + 1), _act("e", s.card, i)) for i in pages[s.page]
        ]
        rows = [tuple(edits[i : i + 4]) for i in range(0, len(edits), 4)]
        nav = []
        if s.page > 0:
            nav.append(Button(t("q.page_prev", loc), _act("v", s.card, s.page, s.page - 1)))
        if s.page + 1 < len(pages):
            nav.append(Button(t("q.page_next", loc), _act("v", s.card, s.page, s.page + 1)))
        if nav:
            rows.append(tuple(nav))
        if s.preselect:
            rows.append((Button(t("q.change_picks", loc), _act("m", s.card)),))
        buttons = (*rows, (Button(t("q.submit", loc), _act("s", s.card)),))
    for level in _REVIEW_LEVELS:
        middle = _review_lines(campaign, s, *level)
        if len("\n".join(head + middle + tail)) <= MAX_TEXT:
            break
    return Message(_fit(head, middle, tail, loc), buttons, f"q{s.card}")
