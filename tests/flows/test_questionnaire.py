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
    Apply,
    Pause,
    QState,
    SetLocale,
    Show,
    SealBallot,
    Step,
    sealed,
    Tap,
    Text,
    is_complete,
    progress,
    rated,
    start,
    step,
)

STALE_ZH = i18n.t("q.stale", "zh")
STALE_EN = i18n.t("q.stale", "en")
INCOMPLETE_ZH = i18n.t("q.incomplete", "zh")
INCOMPLETE_EN = i18n.t("q.incomplete", "en")
ALREADY = {i18n.t("q.already_submitted", loc) for loc in i18n.LOCALES}


# --- a tiny chat client ---------------------------------------------------------------


class Chat:
    """Plays the adapter: keeps the latest version of every card, taps buttons by label."""

    def __init__(self, campaign, state: QState):
        self.campaign = campaign
        self.state = state
        self.cards: dict[str, Message] = {}
        self.log: list[Message] = []
        self.last: Step | None = None
        self.submissions: list[SealBallot] = []
        # False once a Mini App edit may have moved the questionnaire under the card on
        # screen; the card's buttons may then be stale or still valid.
        self.fresh = True

    def send(self, event) -> Step:
        before = self.state.model_dump(mode="json")
        r = step(self.campaign, self.state, event)
        assert self.state.model_dump(mode="json") == before, "step() modified its input"
        self.state = r.state
        for m in r.outcome.messages:
            self.log.append(m)
            if m.card is not None:
                self.cards[m.card] = m
        if sealed(r) is not None:
            self.submissions.append(sealed(r))
        if isinstance(event, Apply) and r.state != self.state_before(before):
            self.fresh = False
        if any(m.card == f"q{r.state.card}" for m in r.outcome.messages):
            self.fresh = True
        self.last = r
        return r

    @staticmethod
    def state_before(dump: dict) -> QState:
        return QState.model_validate(dump)

    @property
    def card(self) -> Message:
        return self.cards[f"q{self.state.card}"]

    def button(self, label: str) -> Button:
        for b in self.card.all_buttons():
            if b.label == label or b.label == "✓ " + label:
                return b
        raise AssertionError(f"no button {label!r} on {[b.label for b in self.card.all_buttons()]}")

    def press(self, label: str) -> Step:
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
        ["全部满意", "全部比较满意"],  # the shortcut: every dimension at once
        ["全部基本满意", "全部不满意"],
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
    assert sealed(r) == SealBallot(
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
        assert r.state == done and sealed(r) is None
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
    assert sealed(r).answers == {
        "transport": {"style": None, "lawful": None},
        "water": {"style": None, "lawful": None},
    }
    assert sealed(r).opinions == {}


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
    assert sealed(r) is None


def test_cannot_submit_incomplete_even_from_a_forged_state(small_campaign):
    s = start(small_campaign, "recipients", "zh").model_copy(
        update={"phase": "confirm", "card": 7, "answers": {"transport": {"style": "satisfied"}}}
    )
    r = step(small_campaign, s, Tap("c7"))
    assert sealed(r) is None and r.state.phase == "answering"
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
    assert sealed(r) is None and r.state.answers["transport"] == {"style": "satisfied"}
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
    # The review is paged (20 evaluees a page), each page within Telegram's limits; it opens
    # on the page of the evaluee just finished.
    assert "第 2/2 页" in c.card.text and "25. <b>" in c.card.text and "20. <b>" not in c.card.text
    assert len(c.card.text) <= 4096 and c.labels() == [f"修改 {n}" for n in range(21, 26)] + ["◀ 上一页", "提交"]
    c.press("◀ 上一页")
    assert "第 1/2 页" in c.card.text and "1. <b>" in c.card.text and "21. <b>" not in c.card.text
    assert len(c.card.text) <= 4096 and c.labels() == [f"修改 {n}" for n in range(1, 21)] + ["下一页 ▶", "提交"]
    for m in c.log:
        assert 1 <= len(m.text) <= 4096
        assert_html(m.text)


def test_review_of_40_evaluees_with_long_opinions_fits(campaign_factory, evaluees_factory):
    evaluees = evaluees_factory(40)
    for e in evaluees:
        e["name"] = {"zh": "“<特别长的名字>” & " * 12, "en": "<Very long name> & " * 12}
    campaign = campaign_factory(evaluees, dimensions=5, max_chars=3500, preselect=False)
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
    # The review opens on the page of the evaluee just finished (21-40 of 40).
    labels = [b.label for b in r.outcome.messages[-1].all_buttons()]
    assert labels == [f"Edit {n}" for n in range(21, 41)] + ["◀ Previous", "Submit"]
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
        scale=[{"key": f"o{i}", "label": huge, "points": 10 * i, "satisfied": i >= 8} for i in range(10)],
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


def check_step(campaign, prev: QState, event, r: Step, offered: set[str] | None, submissions: int):
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
    # pre-selection: picks are evaluees of this rater; only a pre-selecting state picks
    assert s.preselect == prev.preselect
    assert s.picked == [e for e in s.evaluees if e in set(s.picked)]
    if not s.preselect:
        assert s.picked == [] and s.phase != "picking"
    if s.phase == "answering":
        assert s.evaluees[s.index] in rated(s)
    assert QState.model_validate(s.model_dump(mode="json")) == s
    # submissions: once, complete, equal to the state's answers; every evaluee not picked
    # is 不了解 on every dimension, and keeps no opinion
    if sealed(r) is not None:
        via_app = isinstance(event, Apply)
        assert submissions == 0 and prev.phase == ("confirm" if not via_app else prev.phase)
        assert s.phase == "submitted" and is_complete(campaign, s)
        assert sealed(r).group == s.group
        mine = set(rated(s))
        assert sealed(r).answers == {
            e: {
                d.key: (None if e not in mine or s.answers[e][d.key] == DONT_KNOW else s.answers[e][d.key])
                for d in campaign.dimensions
            }
            for e in s.evaluees
        }
        assert sealed(r).opinions == {e: o for e, o in s.opinions.items() if e in mine}
        if s.preselect:
            assert all(v is None for e in set(s.evaluees) - mine for v in sealed(r).answers[e].values())
    if isinstance(event, Apply) and prev.phase != "submitted" and r.outcome.toast not in (None, INCOMPLETE_ZH,
                                                                                           INCOMPLETE_EN):
        assert s == prev and sealed(r) is None  # a refused edit changes nothing
    if prev.phase == "submitted":
        assert s == prev and sealed(r) is None
    if s.phase == "submitted" and prev.phase != "submitted":
        assert sealed(r) is not None
    # taps: accepted exactly when the button is on the current card (a category heading
    # of the pick list answers with a hint only)
    if isinstance(event, Tap) and prev.phase != "submitted" and offered is None:
        # the card on screen is older than a Mini App edit: a tap applies or is stale
        if not r.outcome.messages:
            assert s == prev and r.outcome.toast in (STALE_ZH, STALE_EN, i18n.t("q.pick_heading", s.locale))
    elif isinstance(event, Tap) and prev.phase != "submitted":
        if event.action in offered and event.action.startswith("h"):
            assert s == prev and not r.outcome.messages and r.outcome.toast == i18n.t("q.pick_heading", s.locale)
        elif event.action in offered:
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


def app_edits(campaign, state: QState):
    """Mini App edits for ``state``: mostly valid, sometimes forged, sometimes a submit."""
    keys = st.sampled_from(state.evaluees)
    dims = [d.key for d in campaign.dimensions]
    value = st.sampled_from([o.key for o in campaign.scale] + [DONT_KNOW, None])
    answers = st.dictionaries(keys, st.dictionaries(st.sampled_from(dims), value, max_size=len(dims)), max_size=4)
    picks = st.dictionaries(keys, st.booleans(), max_size=6) if state.preselect else st.just({})
    opinions = st.dictionaries(keys, texts, max_size=2)
    forged = st.one_of(
        st.builds(Apply, answers=st.just({"nobody": {dims[0]: "satisfied"}})),
        st.builds(Apply, answers=st.just({state.evaluees[0]: {"nope": "satisfied"}})),
        st.builds(Apply, answers=st.just({state.evaluees[0]: {dims[0]: "great"}})),
        st.builds(Apply, picks=st.just({state.evaluees[0]: "yes"})),
        st.builds(Apply, opinions=st.just({state.evaluees[0]: 5})),
    )
    # A rater who answers everything at once, so that some app submits succeed.
    complete = st.builds(Apply, answers=st.just({e: {d: "fairly" for d in dims} for e in state.evaluees}),
                         submit=st.booleans())
    return st.one_of(st.builds(Apply, answers=answers, picks=picks, opinions=opinions, submit=st.booleans()),
                     forged, complete)


def run_random_session(campaign, data, group, unit, n_events: int, tap_weight: int, app: bool = False):
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
        elif roll < tap_weight + 36 and app:
            event = data.draw(app_edits(campaign, c.state))
        else:
            event = SetLocale(data.draw(st.sampled_from(["zh", "en", "de"])))
        prev, fresh = c.state, c.fresh
        r = c.send(event)
        check_step(
            campaign, prev, event, r, set(offered) if fresh else None,
            len(c.submissions) - (sealed(r) is not None),
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


@settings(
    derandomize=True,
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_random_sessions_with_preselection_and_app_edits(pick_campaign, data):
    """With pre-selection and Mini App edits in the mix: no path submits with an answer
    missing, and every evaluee not picked is 不了解 in the ballot."""
    run_random_session(pick_campaign, data, "recipients", None, n_events=150, tap_weight=70, app=True)


@settings(
    derandomize=True,
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_random_sessions_small_with_app_edits(small_campaign, data):
    group, unit = data.draw(st.sampled_from([("recipients", None), ("staff", "transport")]))
    run_random_session(small_campaign, data, group, unit, n_events=50, tap_weight=55, app=True)


def test_random_sessions_with_preselection_reach_submission(pick_campaign):
    """The property test above is only meaningful if such sessions do submit, some with
    picks and some through the review's change of picks."""
    import random

    submitted, with_picks, changed = 0, 0, 0
    for seed in range(40):
        rnd = random.Random(seed)
        c = chat(pick_campaign)
        for _ in range(300):
            if c.state.phase == "submitted":
                break
            buttons = c.card.all_buttons()
            if c.state.phase == "picking" and rnd.random() < 0.5:  # pick a few, not all
                buttons = [b for b in buttons if b.action.startswith("t")] or buttons
            elif c.state.phase == "picking":
                buttons = [b for b in buttons if not b.action.startswith("t")]
            b = rnd.choice(buttons)
            changed += b.action.startswith("m")
            c.send(Tap(b.action))
        if c.state.phase == "submitted":
            submitted += 1
            with_picks += bool(c.state.picked)
    assert submitted >= 15 and with_picks >= 5 and changed >= 3


# --- pre-selection ----------------------------------------------------------------------


def pick_chat(campaign, locale="zh") -> Chat:
    c = Chat(campaign, start(campaign, "recipients", locale))
    c.send(Show())
    return c


def test_preselection_starts_with_a_paged_pick_list_grouped_by_category(pick_campaign):
    c = pick_chat(pick_campaign)
    s = c.state
    assert s.preselect and s.phase == "picking" and s.picked == []
    # walked in category order: c1's evaluees first (e01, e04, …), then c2, then c3
    assert s.evaluees[:3] == ["e01", "e04", "e07"] and s.evaluees[15] == "e02"
    card = c.card
    assert "请勾选您了解的对象（第 1/3 页）" in card.text
    assert "共 45 个被评议对象" in card.text and "每个对象约需 18 秒" in card.text
    assert "本页：第1类、第2类" in plain(card.text)
    labels = c.labels()
    assert labels[0] == "— 第1类 —" and labels.index("— 第2类 —") == 16  # 15 of c1, then c2
    assert labels[-2:] == ["下一页 ▶", "都不了解"]
    assert sum(1 for b in card.all_buttons() if b.action.startswith("t")) == 20
    # the heading only hints
    r = c.press("— 第2类 —")
    assert r.outcome.toast == "请点选下面的对象" and c.state == s


def test_pick_walk_review_change_picks_and_submit(pick_campaign):
    # Category c1 holds e01, e04, … e43 (15), c2 e02, e05, … e44, c3 e03, e06, … e45.
    # Page 1: c1's 15 and c2's first 5 (e02 … e14); page 2: the rest of c2, c3's first 10.
    c = pick_chat(pick_campaign)
    name = lambda k: f"第{int(k[1:])}局 <R&D> “创新”办公室"  # noqa: E731
    for key in ["e04", "e01"]:
        c.press(name(key))
    assert "✓ " + name("e01") in c.labels() and c.labels()[-1] == "完成（已选 2 个）"
    assert "已选 2 个：" in plain(c.card.text)
    c.press(name("e04"))  # untoggled again
    c.press(name("e05"))
    assert c.state.picked == ["e01", "e05"]
    c.press("下一页 ▶")
    assert "第 2/3 页" in c.card.text and "◀ 上一页" in c.labels()
    assert c.labels()[0] == "— 第2类 —" and "— 第3类 —" in c.labels()
    c.press(name("e17"))
    assert c.state.picked == ["e01", "e05", "e17"]  # in walking order
    r = c.press("完成（已选 3 个）")
    final, first = r.outcome.messages
    assert final.buttons == () and "已选择 3 个对象（共 45 个）" in html.unescape(final.text)
    assert "约需 1 分钟" in final.text
    assert "<b>1/3 · 第1局" in first.text  # numbered among the picks
    # e01: every dimension at once, then one changed; e05 dimension by dimension; e17 skipped
    c.press("全部比较满意")
    assert c.state.step == 3 and c.state.answers["e01"] == {d: "fairly" for d in ("style", "lawful", "efficiency")}
    c.press("← 上一题")
    assert "✓ 比较满意" in c.labels()  # still editable per dimension
    c.press("不满意")
    c.send(Text("意见一"))
    assert "<b>2/3 · 第5局" in c.card.text
    for label in ["满意", "基本满意", "不了解", "跳过"]:
        c.press(label)
    assert "<b>3/3 · 第17局" in c.card.text
    c.press("跳过此对象")
    assert c.state.phase == "review"
    review = plain(html.unescape(c.card.text))
    assert "共 3 个对象" in review and "其余 42 个未勾选的对象计为“不了解”" in review
    assert c.labels() == ["修改 1", "修改 2", "修改 3", "修改所选对象", "提交"]
    # change the picks: drop e17, add e03
    r = c.press("修改所选对象")
    assert r.outcome.messages[0].buttons == () and c.state.phase == "picking"
    c.press("下一页 ▶")
    c.press(name("e17"))
    c.press(name("e03"))
    c.press("完成（已选 3 个）")
    assert (c.state.phase, c.state.evaluees[c.state.index]) == ("answering", "e03")  # only the new pick
    assert "<b>3/3 · 第3局" in c.card.text
    c.press("全部满意")
    c.press("跳过")
    assert c.state.phase == "review"
    c.press("提交")
    r = c.press("确认提交")
    sub = sealed(r)
    assert sub.answers["e01"] == {"style": "fairly", "lawful": "fairly", "efficiency": "dissatisfied"}
    assert sub.answers["e05"] == {"style": "satisfied", "lawful": "basically", "efficiency": None}
    assert sub.answers["e03"] == {"style": "satisfied", "lawful": "satisfied", "efficiency": "satisfied"}
    assert sub.answers["e17"] == {"style": None, "lawful": None, "efficiency": None}  # no longer picked
    unpicked = set(pick_campaign_keys(pick_campaign)) - {"e01", "e05", "e03"}
    assert len(unpicked) == 42 and all(set(sub.answers[e].values()) == {None} for e in unpicked)
    assert sub.opinions == {"e01": "意见一"}


def pick_campaign_keys(campaign) -> list[str]:
    return [e.key for e in campaign.evaluees]


def test_knowing_none_is_one_tap_to_the_review(pick_campaign):
    c = pick_chat(pick_campaign, locale="en")
    r = c.press("I know none of them")
    assert "You picked none: all 45 evaluees count as “Don't know”." in html.unescape(r.outcome.messages[0].text)
    assert c.state.phase == "review" and "You picked no evaluee" in html.unescape(c.card.text)
    assert c.labels() == ["Change my picks", "Submit"]
    c.press("Submit")
    r = c.press("Confirm")
    assert all(v is None for dims in sealed(r).answers.values() for v in dims.values())
    assert len(sealed(r).answers) == 45 and sealed(r).opinions == {}


def test_back_from_the_first_picked_card_returns_to_the_pick_list(pick_campaign):
    c = pick_chat(pick_campaign)
    c.press("下一页 ▶")
    c.press("下一页 ▶")
    c.press(c.labels()[1])  # an evaluee on page 3
    key = c.state.picked[0]
    c.press("完成（已选 1 个）")
    assert "← 上一题" in c.labels()
    c.press("← 上一题")
    assert c.state.phase == "picking" and c.state.page == 2 and "第 3/3 页" in c.card.text
    assert c.state.picked == [key]


def test_own_unit_staff_and_after_service_raters_do_not_pick(pick_campaign):
    staff = start(pick_campaign, "staff", "zh", unit="e07")
    assert not staff.preselect and staff.phase == "answering" and staff.evaluees == ["e07"]
    served = start(pick_campaign, "recipients", "zh", only=["e09"])
    assert not served.preselect and served.phase == "answering"
    assert start(pick_campaign, "public", "zh").preselect  # an open group picks like any other


def test_stored_states_from_before_preselection_still_load(big_campaign):
    old = {"campaign_id": "test-campaign", "group": "recipients", "locale": "zh",
           "evaluees": [e.key for e in big_campaign.evaluees], "index": 3, "step": 1, "phase": "answering",
           "answers": {"e04": {"style": "satisfied"}}, "opinions": {}, "paused": False, "card": 9}
    s = QState.model_validate(old)
    assert (s.preselect, s.picked, s.page) == (False, [], 0)
    r = step(big_campaign, s, Tap("a9.3.1.0"))
    assert r.state.answers["e04"] == {"style": "satisfied", "lawful": "satisfied"} and r.state.step == 2


def test_preselection_follows_the_campaign_option(campaign_factory):
    evaluees = [{"key": f"u{i}", "name": f"单位{i}", "category": "gov"} for i in range(5)]
    assert not start(campaign_factory(evaluees), "recipients", "zh").preselect  # 5 ≤ 12
    assert start(campaign_factory(evaluees, preselect=True), "recipients", "zh").preselect
    assert start(campaign_factory(evaluees, preselect=4), "recipients", "zh").preselect
    assert not start(campaign_factory(evaluees, preselect=5), "recipients", "zh").preselect
    many = [{"key": f"u{i}", "name": f"单位{i}", "category": "gov"} for i in range(30)]
    assert not start(campaign_factory(many, preselect=False), "recipients", "zh").preselect


def test_picking_stays_within_telegram_limits_at_150_evaluees(campaign_factory):
    from tests.flows.conftest import categorized_evaluees, category_list

    evaluees = categorized_evaluees(150, 4)
    for e in evaluees:
        e["name"] = {"zh": "“<很长的单位名称>” & " * 8, "en": "<A very long name> & " * 8}
    campaign = campaign_factory(evaluees, dimensions=6, categories=category_list(4))
    s = start(campaign, "recipients", "en").model_copy(update={"card": 987_654_321})
    c = Chat(campaign, s)
    c.send(Show())
    pages = 0
    while True:
        pages += 1
        for b in c.card.all_buttons():
            if b.action.startswith("t"):
                c.send(Tap(b.action))  # pick everything: the longest review
        card = c.card
        assert len(card.text) <= 4096 and len(card.all_buttons()) <= 100
        if "Next ▶" not in c.labels():
            break
        c.press("Next ▶")
    assert pages == 8 and len(c.state.picked) == 150
    c.press("Done (150 picked)")
    while c.state.phase == "answering":
        c.send(Tap(c.button("All: Basically satisfied").action))
        c.send(Text("<意见> & " * 100))
    reviews = 1  # opens on the last page, of the evaluee just finished
    assert "Next ▶" not in c.labels()
    while "◀ Previous" in c.labels():
        c.press("◀ Previous")
        reviews += 1
    assert reviews == 8 and "Page 1/8" in c.card.text
    for m in c.log:
        assert 1 <= len(m.text) <= 4096
        assert_html(m.text)
        assert len(m.all_buttons()) <= 100
        for b in m.all_buttons():
            assert len(b.action.encode()) <= 48 and b.label.strip()


# --- the all-dimensions shortcut ------------------------------------------------------------


def test_shortcut_sets_every_dimension_and_stays_editable(small_campaign):
    c = chat(small_campaign)
    r = c.press("全部基本满意")
    assert [m.card for m in r.outcome.messages] == ["q1"]  # edited in place
    assert c.state.answers["transport"] == {"style": "basically", "lawful": "basically"}
    assert c.state.step == 2 and "✔ 工作作风：基本满意" in c.card.text and "✔ 依法行政：基本满意" in c.card.text
    c.press("← 上一题")
    assert "✓ 基本满意" in c.labels() and not any(label.startswith("全部") for label in c.labels())
    c.press("满意")
    assert c.state.answers["transport"] == {"style": "basically", "lawful": "satisfied"}
    c.press("跳过")
    # only on the first step, only with several dimensions
    c.press("满意")
    assert not any(label.startswith("全部") for label in c.labels())
    assert step(small_campaign, c.state, Tap(f"w{c.state.card}.1.1.0")).outcome.toast == STALE_ZH


def test_no_shortcut_with_a_single_dimension(campaign_factory):
    campaign = campaign_factory([{"key": "x", "name": "某局", "category": "gov"}], dimensions=1)
    c = chat(campaign)
    assert not any(label.startswith("全部") for label in c.labels())
    assert step(campaign, c.state, Tap("w1.0.0.0")).outcome.toast == STALE_ZH


# --- Mini App edits (Apply) -------------------------------------------------------------------


def test_apply_edits_merge_with_chat_answers(small_campaign):
    c = chat(small_campaign)
    c.press("满意")  # transport.style in chat
    r = c.send(Apply(answers={"transport": {"lawful": "fairly"}, "water": {"style": DONT_KNOW}},
                     opinions={"water": "  门难进  "}))
    assert r.outcome.messages == [] and r.outcome.toast is None and sealed(r) is None
    assert c.state.answers == {"transport": {"style": "satisfied", "lawful": "fairly"}, "water": {"style": DONT_KNOW}}
    assert c.state.opinions == {"water": "门难进"}
    # the chat's card is now out of date: its buttons are stale, /resume shows where things are
    assert progress(small_campaign, c.state) == (1, 2)
    c.send(Apply(answers={"transport": {"lawful": None}}, opinions={"water": ""}))  # clear
    assert c.state.answers["transport"] == {"style": "satisfied"} and c.state.opinions == {}


def test_apply_submit_needs_every_answer(small_campaign):
    c = chat(small_campaign, locale="en")
    r = c.send(Apply(answers={"transport": {"style": "satisfied", "lawful": "satisfied"}}, submit=True))
    assert sealed(r) is None and r.outcome.toast == INCOMPLETE_EN
    assert c.state.answers["transport"] == {"style": "satisfied", "lawful": "satisfied"}  # kept
    r = c.send(Apply(answers={"water": {"style": "dissatisfied", "lawful": DONT_KNOW}}, submit=True))
    assert c.state.phase == "submitted"
    assert sealed(r).answers == {"transport": {"style": "satisfied", "lawful": "satisfied"},
                                    "water": {"style": "dissatisfied", "lawful": None}}
    assert c.send(Apply(answers={"water": {"style": "satisfied"}})).outcome.toast in ALREADY


@pytest.mark.parametrize("edit", [
    Apply(answers={"elsewhere": {"style": "satisfied"}}),
    Apply(answers={"transport": {"bogus": "satisfied"}}),
    Apply(answers={"transport": {"style": "great"}}),
    Apply(answers={"transport": "satisfied"}),
    Apply(picks={"transport": True}),  # this rater does not pick
    Apply(opinions={"transport": 5}),
    Apply(opinions={"transport": "长" * 1001}),
])
def test_forged_app_edits_change_nothing(small_campaign, edit):
    c = chat(small_campaign)
    c.press("满意")
    before = c.state
    r = c.send(edit)
    assert r.state == before and sealed(r) is None and r.outcome.messages == [] and r.outcome.toast


def test_apply_picks_and_unpicked_answers_count_as_dont_know(pick_campaign):
    c = pick_chat(pick_campaign)
    dims = ("style", "lawful", "efficiency")
    r = c.send(Apply(picks={"e01": True, "e02": True},
                     answers={"e01": dict.fromkeys(dims, "satisfied"), "e02": dict.fromkeys(dims, "fairly"),
                              "e03": dict.fromkeys(dims, "dissatisfied")},  # not picked: not counted
                     opinions={"e03": "不算"}))
    assert c.state.picked == ["e01", "e02"] and progress(pick_campaign, c.state) == (2, 2)
    r = c.send(Apply(picks={"e02": False}, submit=True))
    assert sealed(r).answers["e01"] == dict.fromkeys(dims, "satisfied")
    assert sealed(r).answers["e02"] == dict.fromkeys(dims) and sealed(r).answers["e03"] == dict.fromkeys(dims)
    assert sealed(r).opinions == {}
