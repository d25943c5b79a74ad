"""The rater questionnaire engine (flows.questionnaire), without Telegram."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows import i18n
from flows.messages import Button, Message
from flows.questionnaire import (
    DONT_KNOW,
    Pause,
    QState,
    Result,
    SetLocale,
    Show,
    Submission,
    Tap,
    Text,
    is_complete,
    progress,
    start,
    step,
)

STALE_ZH = i18n.t("q.stale", "zh")
STALE_EN = i18n.t("q.stale", "en")
ALREADY = {i18n.t("q.already_submitted", loc) for loc in i18n.LOCALES}


# --- a tiny chat client ---------------------------------------------------------------


class Chat:
    """Plays the adapter: keeps the latest version of every card, taps buttons by label."""

    def __init__(self, campaign, state: QState):
        self.campaign = campaign
        self.state = state
        self.cards: dict[str, Message] = {}
        self.log: list[Message] = []
        self.last: Result | None = None
        self.submissions: list[Submission] = []

    def send(self, event) -> Result:
        before = self.state.model_dump(mode="json")
        r = step(self.campaign, self.state, event)
        assert self.state.model_dump(mode="json") == before, "step() modified its input"
        self.state = r.state
        for m in r.outcome.messages:
            self.log.append(m)
            if m.card is not None:
                self.cards[m.card] = m
        if r.submission is not None:
            self.submissions.append(r.submission)
        self.last = r
        return r

    @property
    def card(self) -> Message:
        return self.cards[f"q{self.state.card}"]

    def button(self, label: str) -> Button:
        for b in self.card.all_buttons():
            if b.label == label or b.label == "✓ " + label:
                return b
        raise AssertionError(f"no button {label!r} on {[b.label for b in self.card.all_buttons()]}")

    def press(self, label: str) -> Result:
        return self.send(Tap(self.button(label).action))

    def labels(self) -> list[str]:
        return [b.label for b in self.card.all_buttons()]


def chat(campaign, group="recipients", locale="zh", unit=None) -> Chat:
    c = Chat(campaign, start(campaign, group, locale, unit))
    c.send(Show())
    return c


def plain(html_text: str) -> str:
    return re.sub(r"</?[bi]>", "", html_text)


# --- start ----------------------------------------------------------------------------


def test_start(small_campaign):
    s = start(small_campaign, "recipients", "en")
    assert s.evaluees == ["transport", "water"]
    assert (s.index, s.step, s.phase, s.card, s.paused) == (0, 0, "answering", 0, False)
    assert s.locale == "en"
    assert start(small_campaign, "public", "fr").locale == "zh"
    with pytest.raises(ValueError, match="no rater group"):
        start(small_campaign, "nobody", "zh")
    with pytest.raises(ValueError, match="no evaluee"):
        start(small_campaign, "staff", "zh", unit="police")


def test_own_unit_group_sees_only_its_unit(small_campaign):
    c = chat(small_campaign, group="staff", unit="water")
    assert c.state.evaluees == ["water"]
    assert "水利局" in c.card.text and "交通局" not in c.card.text
    assert "1/1" in c.card.text
    assert start(small_campaign, "public", "zh").evaluees == ["transport", "water"]


def test_first_card(small_campaign):
    c = chat(small_campaign)
    card = c.card
    assert card.card == "q1"
    assert "<b>1/2 · 交通局</b>" in card.text
    assert "职责：负责全县公路建设与养护" in card.text and "承诺：办事限时办结" in card.text
    assert "工作作风（1/2）" in card.text and "有无门难进" in card.text
    assert [[b.label for b in row] for row in card.buttons] == [
        ["满意", "比较满意"],
        ["基本满意", "不满意"],
        ["不了解"],
        ["跳过此对象", "暂停"],  # no Back at the very first question
    ]


# --- the full walk --------------------------------------------------------------------


def test_full_walk(small_campaign):
    c = chat(small_campaign)
    r = c.press("满意")
    assert [m.card for m in r.outcome.messages] == ["q1"]  # edited in place
    assert "✔ 工作作风：满意" in c.card.text and "依法行政（2/2）" in c.card.text
    assert "← 上一题" in c.labels()

    c.press("比较满意")  # -> opinion step of 交通局
    assert (c.state.index, c.state.step) == (0, 2)
    assert "请提出您的意见和建议（可跳过）" in c.card.text and "1000" in c.card.text
    assert c.labels() == ["跳过", "← 上一题"]

    r = c.send(Text("  路面坑洼多，建议尽快修补  "))
    old, new = r.outcome.messages
    assert old.card == "q1" and old.buttons == () and "意见：" in old.text
    assert new.card == "q2" and "2/2 · 水利局" in new.text
    assert c.state.opinions == {"transport": "路面坑洼多，建议尽快修补"}

    # back from the first question of 水利局 to the opinion step of 交通局, then once more
    r = c.press("← 上一题")
    assert [m.card for m in r.outcome.messages] == ["q2", "q3"]
    assert (c.state.index, c.state.step) == (0, 2)
    assert "当前意见：" in c.card.text and "路面坑洼多" in c.card.text
    assert c.labels() == ["保留并继续", "删除意见", "← 上一题"]
    c.press("← 上一题")
    assert (c.state.index, c.state.step) == (0, 1)
    assert "✓ 比较满意" in c.labels()  # the earlier answer is marked
    c.press("不满意")  # change it
    c.press("保留并继续")
    assert (c.state.index, c.state.step, c.state.card) == (1, 0, 4)

    c.press("满意")
    c.press("不了解")
    r = c.press("跳过")  # no opinion for 水利局 -> review
    assert c.state.phase == "review"
    review = c.card.text
    assert "交通局：满意×1 不满意×1 · 意见✓" in plain(review)
    assert "水利局：满意×1 不了解×1" in plain(review)
    assert c.labels() == ["修改 1", "修改 2", "提交"]

    c.press("提交")
    assert c.state.phase == "confirm" and "提交后不可更改" in c.card.text
    assert c.labels() == ["确认提交", "返回"]
    c.press("返回")
    assert c.state.phase == "review"
    c.press("提交")
    r = c.press("确认提交")
    assert c.state.phase == "submitted"
    assert r.submission == Submission(
        group="recipients",
        answers={
            "transport": {"style": "satisfied", "lawful": "dissatisfied"},
            "water": {"style": "satisfied", "lawful": None},
        },
        opinions={"transport": "路面坑洼多，建议尽快修补"},
    )
    final, thanks = r.outcome.messages
    assert final.buttons == () and "已提交" in final.text
    assert thanks.card is None and "感谢" in thanks.text
    assert progress(small_campaign, c.state) == (2, 2)

    # a submitted questionnaire refuses everything
    done = c.state
    for event in [
        Tap("c5"),
        Tap(r.outcome.messages[0].card or ""),
        Show(),
        Pause(),
        Text("x"),
        SetLocale("en"),
    ]:
        r = c.send(event)
        assert r.state == done and r.submission is None
        shown = (
            [r.outcome.toast] if isinstance(event, Tap) else [m.text for m in r.outcome.messages]
        )
        assert shown and all(s in ALREADY for s in shown)
    assert len(c.submissions) == 1


def test_edit_from_review_returns_to_review(small_campaign):
    c = chat(small_campaign)
    for label in ["满意", "满意", "跳过", "基本满意", "满意", "跳过"]:
        c.press(label)
    assert c.state.phase == "review"
    r = c.press("修改 2")
    assert r.outcome.messages[0].buttons == ()  # the review card loses its buttons
    assert (c.state.phase, c.state.index, c.state.step) == ("answering", 1, 0)
    assert "✓ 基本满意" in c.labels()
    c.press("不满意")
    c.press("满意")
    c.send(Text("改进服务"))
    assert c.state.phase == "review"
    assert "水利局：满意×1 不满意×1 · 意见✓" in plain(c.card.text)


def test_skip_evaluee(small_campaign):
    c = chat(small_campaign)
    c.press("满意")
    c.press("满意")
    c.send(Text("意见"))
    c.press("← 上一题")
    c.press("← 上一题")  # back on 交通局, 依法行政
    r = c.press("跳过此对象")
    assert c.state.answers["transport"] == {"style": DONT_KNOW, "lawful": DONT_KNOW}
    assert "transport" not in c.state.opinions
    assert (c.state.index, c.state.step) == (1, 0)
    assert r.outcome.messages[0].buttons == () and r.outcome.messages[-1].card == f"q{c.state.card}"
    c.press("跳过此对象")
    assert c.state.phase == "review" and is_complete(small_campaign, c.state)
    c.press("提交")
    r = c.press("确认提交")
    assert r.submission.answers == {
        "transport": {"style": None, "lawful": None},
        "water": {"style": None, "lawful": None},
    }
    assert r.submission.opinions == {}


def test_delete_opinion(small_campaign):
    c = chat(small_campaign)
    c.press("满意")
    c.press("满意")
    c.send(Text("意见"))
    c.press("← 上一题")
    c.press("删除意见")
    assert c.state.opinions == {} and c.state.index == 1


# --- opinions -------------------------------------------------------------------------


def test_opinion_too_long_keeps_state(small_campaign):
    c = chat(small_campaign)
    c.press("满意")
    c.press("满意")
    before = c.state
    r = c.send(Text("长" * 1001))
    assert r.state == before
    (msg,) = r.outcome.messages
    assert msg.card is None and "1001" in msg.text and "1000" in msg.text
    r = c.send(Text("   \n "))
    assert r.state == before and r.outcome.messages[0].card is None
    c.send(Text("长" * 1000))  # exactly the limit is fine
    assert c.state.opinions["transport"] == "长" * 1000 and c.state.index == 1


def test_text_where_a_button_is_expected(small_campaign):
    c = chat(small_campaign)
    before = c.state
    r = c.send(Text("满意"))
    old, hint, new = r.outcome.messages
    assert old.card == "q1" and old.buttons == ()
    assert hint.card is None and "按钮" in hint.text
    assert new.card == "q2" and new.buttons
    assert r.state == before.model_copy(update={"card": 2})


def test_html_in_opinion_is_escaped(small_campaign):
    c = chat(small_campaign)
    c.press("满意")
    c.press("满意")
    evil = "<script>alert('x')</script> & <b>bold</b>"
    r = c.send(Text(evil))
    old = r.outcome.messages[0]
    assert "&lt;script&gt;" in old.text and "<script>" not in old.text
    c.press("← 上一题")
    assert "&lt;script&gt;" in c.card.text and "<script>" not in c.card.text
    c.press("保留并继续")
    c.press("跳过此对象")
    assert c.state.phase == "review"
    assert "&lt;script&gt;" in c.card.text and "<script>" not in c.card.text
    assert c.state.opinions["transport"] == evil  # stored verbatim
    for m in c.log:
        assert_html(m.text)


# --- stale, forged, double taps -------------------------------------------------------


def test_double_tap_changes_nothing(small_campaign):
    c = chat(small_campaign)
    action = c.button("满意").action
    c.send(Tap(action))
    after = c.state
    r = c.send(Tap(action))
    assert r.state == after and r.outcome.messages == [] and r.outcome.toast == STALE_ZH


def test_old_card_buttons_are_stale(small_campaign):
    c = chat(small_campaign)
    first_card_action = c.button("不满意").action
    c.send(Show())  # the card is re-shown as q2; q1 is dead
    assert c.state.card == 2 and (c.state.index, c.state.step) == (0, 0)
    r = c.send(Tap(first_card_action))
    assert r.state == c.state and r.outcome.toast == STALE_ZH and not r.outcome.messages


@pytest.mark.parametrize(
    "action",
    [
        "",
        "a",
        "zz",
        "a1",
        "a1.0",
        "a1.0.0",
        "a1.0.0.5",  # option out of range (4 levels + 不了解 = 0..4)
        "a1.0.0.0.0",
        "a1.0.1.0",  # wrong step
        "a1.1.0.0",  # wrong evaluee
        "a2.0.0.0",  # wrong card
        "a0.0.0.0",
        "a01.0.0.0x",
        "b1.0.0",  # no Back at the very first question
        "o1.0.0",  # opinion skip at a dimension step
        "r1.0.0",
        "s1",
        "c1",
        "x1",
        "e1.0",
        "A1.0.0.0",
        "a１.0.0.0",  # full-width digit
        "a1.0.0.-1",
        "a1.0.0.0 ",
        "a" + "1" * 60,
        "k1.0.0.0",
        "p1.0",
    ],
)
def test_forged_taps_change_nothing(small_campaign, action):
    c = chat(small_campaign, locale="en")
    before = c.state
    r = c.send(Tap(action))
    assert r.state == before and r.outcome.messages == [] and r.outcome.toast == STALE_EN
    assert r.submission is None


def test_cannot_submit_incomplete_even_from_a_forged_state(small_campaign):
    s = start(small_campaign, "recipients", "zh").model_copy(
        update={"phase": "confirm", "card": 7, "answers": {"transport": {"style": "satisfied"}}}
    )
    r = step(small_campaign, s, Tap("c7"))
    assert r.submission is None and r.state.phase == "answering"
    assert (r.state.index, r.state.step) == (0, 0)
    # junk in a stored state is dropped, never submitted
    s = start(small_campaign, "recipients", "zh").model_copy(
        update={
            "phase": "confirm",
            "card": 3,
            "answers": {
                "transport": {"style": "satisfied", "lawful": "great", "bogus": "satisfied"},
                "water": {"style": DONT_KNOW, "lawful": "fairly"},
                "elsewhere": {"style": "satisfied"},
            },
        }
    )
    r = step(small_campaign, s, Tap("c3"))
    assert r.submission is None and r.state.answers["transport"] == {"style": "satisfied"}
    assert "elsewhere" not in r.state.answers


# --- pause, resume, locale, persistence ----------------------------------------------


def test_pause_and_resume(small_campaign):
    c = chat(small_campaign)
    c.press("满意")
    c.press("比较满意")
    c.send(Text("意见"))
    c.press("基本满意")
    position = (c.state.index, c.state.step)
    r = c.send(Pause())
    assert c.state.paused and "/resume" in r.outcome.messages[0].text
    assert r.outcome.messages[0].card is None
    r = c.send(Show())
    assert not c.state.paused and (c.state.index, c.state.step) == position
    old, new = r.outcome.messages
    assert old.buttons == () and new.card == f"q{c.state.card}" and "2/2 · 水利局" in new.text
    assert "✔ 工作作风：基本满意" in new.text and "依法行政（2/2）" in new.text

    # the pause button; then a valid tap on the card just unpauses and applies
    r = c.press("暂停")
    assert c.state.paused and "/resume" in r.outcome.messages[0].text
    c.press("不满意")
    assert not c.state.paused and c.state.step == 2


def test_locale_switch(small_campaign):
    c = chat(small_campaign)
    c.press("满意")
    r = c.send(SetLocale("en"))
    old, new = r.outcome.messages
    assert old.card == "q1" and old.buttons == ()
    assert new.card == "q2" and c.state.locale == "en"
    assert "Transport Bureau" in new.text and "Law-based administration (2/2)" in new.text
    assert "✔ Work style: Satisfied" in new.text
    assert c.labels() == [
        "Satisfied",
        "Fairly satisfied",
        "Basically satisfied",
        "Dissatisfied",
        "Don't know",
        "← Back",
        "Skip this evaluee",
        "Pause",
    ]
    assert c.send(Tap("zz")).outcome.toast == STALE_EN
    c.send(SetLocale("fr"))
    assert c.state.locale == "zh" and "依法行政" in c.card.text


def test_json_round_trip_mid_way(small_campaign):
    c = chat(small_campaign)
    c.press("满意")
    c.press("不了解")
    c.send(Text("<意见> & 建议"))
    c.press("比较满意")
    c.send(Pause())
    s = c.state
    restored = QState.model_validate(s.model_dump(mode="json"))
    assert restored == s
    assert QState.model_validate_json(s.model_dump_json()) == s
    for event in [Show(), Tap(f"a{s.card + 1}.1.1.0")]:
        assert step(small_campaign, restored, event) == step(small_campaign, s, event)
        restored = step(small_campaign, restored, event).state
        s = step(small_campaign, s, event).state
    assert restored.answers["water"] == {"style": "fairly", "lawful": "satisfied"}


def test_progress_and_completeness(small_campaign):
    c = chat(small_campaign)
    assert progress(small_campaign, c.state) == (0, 2) and not is_complete(small_campaign, c.state)
    c.press("满意")
    assert progress(small_campaign, c.state) == (0, 2)
    c.press("满意")
    assert progress(small_campaign, c.state) == (1, 2)
    c.press("跳过")
    c.press("跳过此对象")
    assert progress(small_campaign, c.state) == (2, 2) and is_complete(small_campaign, c.state)


# --- long texts -----------------------------------------------------------------------


def test_big_campaign_cards_fit(big_campaign):
    c = chat(big_campaign)
    card = c.card
    assert len(card.text) <= 4096
    duties_line = card.text.split("\n")[1]
    assert duties_line.startswith("<i>职责：") and duties_line.endswith("…</i>")
    assert len(html.unescape(plain(duties_line))) <= 200
    while c.state.phase == "answering":
        if c.state.step < len(big_campaign.dimensions):
            c.press(["满意", "比较满意", "不了解"][(c.state.index + c.state.step) % 3])
        else:
            c.send(Text("<很长的意见> & " * 70))
    assert c.state.phase == "review" and len(c.state.evaluees) == 25
    assert len(c.card.text) <= 4096 and len(c.card.all_buttons()) == 26
    for m in c.log:
        assert 1 <= len(m.text) <= 4096
        assert_html(m.text)


def test_review_of_40_evaluees_with_long_opinions_fits(campaign_factory, evaluees_factory):
    evaluees = evaluees_factory(40)
    for e in evaluees:
        e["name"] = {"zh": "“<特别长的名字>” & " * 12, "en": "<Very long name> & " * 12}
    campaign = campaign_factory(evaluees, dimensions=5, max_chars=3500)
    s = start(campaign, "recipients", "en").model_copy(
        update={
            "answers": {
                e["key"]: {d.key: "basically" for d in campaign.dimensions} for e in evaluees
            },
            "opinions": {e["key"]: "<&'\">" * 700 for e in evaluees},
            "index": 39,
            "step": 5,
            "card": 1,
        }
    )
    r = step(campaign, s, Tap("o1.39.5"))
    assert r.state.phase == "review"
    for m in r.outcome.messages:
        assert 1 <= len(m.text) <= 4096
        assert_html(m.text)
    assert len(r.outcome.messages[-1].all_buttons()) == 41
    # the opinion step and the evaluee card with a 3500-character HTML-heavy opinion
    r = step(campaign, r.state, Tap(f"e{r.state.card}.39"))
    for event in [Tap(f"b{r.state.card}.39.0"), Show(), SetLocale("zh")]:
        r = step(campaign, r.state, event)
        for m in r.outcome.messages:
            assert 1 <= len(m.text) <= 4096
            assert_html(m.text)


def test_long_campaign_texts_fit(campaign_factory):
    from flows.campaign import Campaign

    huge = "<&>" * 3000
    data = campaign_factory([{"key": "x", "name": "x", "category": "gov"}]).model_dump()
    data.update(
        evaluees=[
            {
                "key": f"x{i}",
                "name": huge,
                "category": "gov",
                "duties": huge,
                "commitments": [huge] * 5,
            }
            for i in range(3)
        ],
        scale=[{"key": f"o{i}", "label": huge, "points": 10 * i} for i in range(10)],
        dimensions=[{"key": f"d{i}", "label": huge, "hint": huge} for i in range(30)],
        dont_know="  ",  # blank: the button still gets a label
        opinion={"max_chars": 3500, "prompt": huge},
    )
    campaign = Campaign(**data)
    c = chat(campaign)
    for _ in range(200):
        phase = c.state.phase
        if phase == "submitted":
            break
        if phase == "answering" and c.state.step == 30:
            c.send(Text("<&>" * 1166))
        elif phase == "answering":
            c.send(Tap(c.card.all_buttons()[c.state.step % 11].action))
        elif phase == "review":
            c.send(Tap(c.card.all_buttons()[-1].action))
        else:
            c.send(Tap(c.card.all_buttons()[0].action))
    assert c.state.phase == "submitted"
    for m in c.log:
        assert 1 <= len(m.text) <= 4096
        assert_html(m.text)
        for b in m.all_buttons():
            assert b.label.strip() and len(b.action.encode()) <= 48


# --- i18n -----------------------------------------------------------------------------


def test_i18n_catalog():
    for key, tr in i18n.CATALOG.items():
        assert set(i18n.LOCALES) <= set(tr), key
        assert all(s for s in tr.values()), key
    assert i18n.t("q.edit", "en", n=3) == "Edit 3"
    assert i18n.t("q.edit", "fr", n=3) == "修改 3"  # falls back to Chinese
    assert i18n.t("q.stale", None) == STALE_ZH
    with pytest.raises(KeyError):
        i18n.t("no.such.key", "zh")
    with pytest.raises(ValueError, match="placeholders"):
        i18n.register({"test.bad": {"zh": "{n} 个", "en": "{count} items"}})
    with pytest.raises(ValueError, match="already defined"):
        i18n.register({"q.stale": {"zh": "别的"}})
    i18n.register({"q.stale": dict(i18n.CATALOG["q.stale"])})  # identical: fine


# --- properties -----------------------------------------------------------------------

_TAG = re.compile(r"<[^>]*>")
_ENTITY = re.compile(r"&(?:amp|lt|gt|quot|#x27);")


def assert_html(text: str) -> None:
    """Only <b>/<i>, properly nested; every & starts an entity; no stray < or >."""
    stack: list[str] = []
    for tag in _TAG.findall(text):
        assert tag in ("<b>", "</b>", "<i>", "</i>"), f"unexpected tag {tag!r} in {text!r}"
        if tag.startswith("</"):
            assert stack and stack.pop() == tag[2], f"unbalanced {tag} in {text!r}"
        else:
            stack.append(tag[1])
    assert not stack, f"unclosed tags in {text!r}"
    bare = _TAG.sub("", text)
    assert "<" not in bare and ">" not in bare, text
    assert _ENTITY.sub("", bare).count("&") == 0, text


def check_step(campaign, prev: QState, event, r: Result, offered: set[str], submissions: int):
    s = r.state
    n_dims = len(campaign.dimensions)
    values = {o.key for o in campaign.scale} | {DONT_KNOW}
    # fields in range
    assert s.evaluees == prev.evaluees and s.group == prev.group
    assert 0 <= s.index < len(s.evaluees) and 0 <= s.step <= n_dims
    assert s.card >= prev.card and s.locale in campaign.locales
    assert set(s.answers) <= set(s.evaluees)
    for answered in s.answers.values():
        assert set(answered) <= {d.key for d in campaign.dimensions}
        assert set(answered.values()) <= values
    assert set(s.opinions) <= set(s.evaluees)
    assert all(
        o and o == o.strip() and len(o) <= campaign.opinion.max_chars for o in s.opinions.values()
    )
    if s.phase in ("review", "confirm", "submitted"):
        assert is_complete(campaign, s)
    assert QState.model_validate(s.model_dump(mode="json")) == s
    # submissions: once, complete, equal to the state's answers
    if r.submission is not None:
        assert submissions == 0 and prev.phase == "confirm" and s.phase == "submitted"
        assert is_complete(campaign, s)
        assert r.submission.group == s.group
        assert r.submission.answers == {
            e: {
                d.key: (None if s.answers[e][d.key] == DONT_KNOW else s.answers[e][d.key])
                for d in campaign.dimensions
            }
            for e in s.evaluees
        }
        assert r.submission.opinions == s.opinions
    if prev.phase == "submitted":
        assert s == prev and r.submission is None
    if s.phase == "submitted" and prev.phase != "submitted":
        assert r.submission is not None
    # taps: accepted exactly when the button is on the current card
    if isinstance(event, Tap) and prev.phase != "submitted":
        if event.action in offered:
            assert r.outcome.messages
        else:
            assert s == prev and not r.outcome.messages and r.outcome.toast in (STALE_ZH, STALE_EN)
    # messages
    for m in r.outcome.messages:
        assert 1 <= len(m.text) <= 4096
        assert_html(m.text)
        if m.buttons:
            assert m.card == f"q{s.card}"
        for b in m.all_buttons():
            assert b.label and b.label.strip()
            assert b.action.isascii() and 1 <= len(b.action.encode()) <= 48
    if r.outcome.toast is not None:
        assert r.outcome.toast.strip()


texts = st.one_of(
    st.just(""),
    st.just("   \n\t "),
    st.text(max_size=40),
    st.sampled_from(["<script>alert(1)</script>", "a & b <i>x", "&amp;&lt;", "意见：<b>好</b>"]),
    st.integers(900, 4000).map(lambda n: ("<&'\"" * 1000)[:n]),
    st.integers(990, 1010).map(lambda n: "长" * n),
)
garbage = st.one_of(
    st.text(max_size=60),
    st.from_regex(r"[a-z][0-9]{1,2}(\.[0-9]{1,2}){0,4}", fullmatch=True),
)


def run_random_session(campaign, data, group, unit, n_events: int, tap_weight: int):
    locale = data.draw(st.sampled_from(["zh", "en", "fr"]), label="locale")
    c = Chat(campaign, start(campaign, group, locale, unit))
    seen: list[str] = []
    for _ in range(n_events):
        current = c.cards.get(f"q{c.state.card}")
        offered = [b.action for b in current.all_buttons()] if current else []
        roll = data.draw(st.integers(0, 99))
        if roll < tap_weight and offered:
            event = Tap(data.draw(st.sampled_from(offered)))
        elif roll < tap_weight + 6 and seen:
            event = Tap(data.draw(st.sampled_from(seen)))
        elif roll < tap_weight + 10:
            event = Tap(data.draw(garbage))
        elif roll < tap_weight + 22:
            event = Text(data.draw(texts))
        elif roll < tap_weight + 26:
            event = Pause()
        elif roll < tap_weight + 32:
            event = Show()
        else:
            event = SetLocale(data.draw(st.sampled_from(["zh", "en", "de"])))
        prev = c.state
        r = c.send(event)
        check_step(
            campaign, prev, event, r, set(offered), len(c.submissions) - (r.submission is not None)
        )
        seen.extend(b.action for m in r.outcome.messages for b in m.all_buttons())
    return c


@settings(
    derandomize=True,
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_random_sessions_small(small_campaign, data):
    group, unit = data.draw(
        st.sampled_from([("recipients", None), ("staff", "transport"), ("public", None)])
    )
    run_random_session(small_campaign, data, group, unit, n_events=60, tap_weight=60)


@settings(
    derandomize=True,
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_random_sessions_big(big_campaign, data):
    run_random_session(big_campaign, data, "recipients", None, n_events=250, tap_weight=68)


def test_random_sessions_reach_submission(small_campaign):
    """The property tests above are only meaningful if random sessions do submit."""
    import random

    submitted = 0
    for seed in range(30):
        rnd = random.Random(seed)
        c = chat(small_campaign)
        for _ in range(80):
            if c.state.phase == "submitted":
                break
            buttons = c.card.all_buttons()
            c.send(Tap(rnd.choice(buttons).action) if rnd.random() < 0.9 else Text("意见"))
        submitted += c.state.phase == "submitted"
    assert submitted >= 10
