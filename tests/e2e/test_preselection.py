"""Pre-selection in Telegram, both frameworks, both databases: a rater of the 24-unit
windows campaign picks 5 units, answers them (one with the all-aspects shortcut),
changes a pick from the review and submits; the ballot says 不了解 for the other 19."""

from __future__ import annotations

import pytest
from sqlmodel import select

from devtools.devserver import BotAPIServer
from bot.runtime import BotRuntime
from bot.service import Service
from storage import ballots
from storage.db import session_scope
from storage.models import Answer, Ballot, Opinion
from tests.e2e.conftest import TOKEN
from tests.e2e.rater import say, tap
from tests.e2e.windows import NAMES, open_windows
from tests.factories import chain_pending

pytestmark = pytest.mark.postgres


@pytest.fixture
async def windows_bot(engine, framework):
    campaign, token = open_windows(engine)
    # Flood limits off: this test is about the flow (tests/bot/test_sender.py and the
    # other e2e tests run with Telegram's limits).
    async with BotAPIServer(token=TOKEN, rate_limit=False) as srv:
        runtime = BotRuntime(Service(engine), framework, TOKEN, srv.base_url)
        await runtime.start()
        try:
            yield srv, campaign, token
        finally:
            await runtime.stop()


def picking(page: str):
    return lambda m: m.buttons and f"第 {page} 页" in (m.text or "") and "勾选" in (m.text or "")


def card(position: str, name: str):
    return lambda m: m.buttons and f"{position} · {name}" in (m.text or "")


async def test_pick_five_of_24_answer_change_a_pick_and_submit(engine, windows_bot):
    srv, campaign, token = windows_bot
    u = srv.user(9401, "王", language_code="zh")
    await say(u, f"/start {token}", lambda m: "同意参加" in m.labels)
    await tap(u, "同意参加", picking("1/2"))
    welcome = next(m.text for m in u.messages() if "欢迎参加" in (m.text or ""))
    assert "共有 24 个被评议对象" in welcome and "每个约需 36 秒" in welcome  # not "约需 14 分钟"
    first = u.last()
    assert first.labels[0] == "— 窗口服务单位 —" and "— 政府部门 —" in first.labels
    for key in ("tax-hall", "education", "court"):
        await tap(u, NAMES[key], lambda m, k=key: "✓ " + NAMES[k] in m.labels)
    await tap(u, "下一页 ▶", picking("2/2"))
    for key in ("water-supply", "power"):
        await tap(u, NAMES[key], lambda m, k=key: "✓ " + NAMES[k] in m.labels)
    assert u.last().labels[-1] == "完成（已选 5 个）"
    await tap(u, "完成（已选 5 个）", card("1/5", NAMES["tax-hall"]))
    summary = next(m for m in u.messages() if "已选择 5 个对象" in (m.text or ""))
    assert "（共 24 个）" in summary.text and "约需 3 分钟" in summary.text and not summary.buttons

    # 1/5: every aspect at once; 2/5 aspect by aspect with an opinion; the rest at once
    await tap(u, "全部满意", lambda m: "跳过" in m.labels and "✔ 服务意识：满意" in (m.text or ""))
    await tap(u, "跳过", card("2/5", NAMES["education"]))
    for n, label in enumerate(["满意", "比较满意", "基本满意", "不满意", "不了解", "满意"]):
        await tap(u, label, (lambda m: "跳过" in m.labels) if n == 5 else (lambda m, n=n: f"（{n + 2}/6）" in (m.text or "")))
    await say(u, "窗口排队时间太长", card("3/5", NAMES["court"]))
    for position, key, label in (("3/5", "court", "全部比较满意"), ("4/5", "water-supply", "全部基本满意"),
                                 ("5/5", "power", "全部不满意")):
        await tap(u, label, lambda m: "跳过" in m.labels)
        await tap(u, "跳过", lambda m: m.buttons and ("提交" in m.labels or "/5 · " in (m.text or "")))
    review = u.last()
    assert "共 5 个对象" in review.text and "其余 19 个未勾选的对象计为“不了解”" in review.text
    assert review.labels == ["修改 1", "修改 2", "修改 3", "修改 4", "修改 5", "修改所选对象", "提交"]

    # a pick changed from the review: 市教育局 out, 市民政局 in; only the new one is asked
    await tap(u, "修改所选对象", picking("1/2"))
    await tap(u, "✓ " + NAMES["education"], lambda m: NAMES["education"] in m.labels)
    await tap(u, NAMES["civil-affairs"], lambda m: "✓ " + NAMES["civil-affairs"] in m.labels)
    await tap(u, "完成（已选 5 个）", card("2/5", NAMES["civil-affairs"]))
    await tap(u, "全部比较满意", lambda m: "跳过" in m.labels)
    await tap(u, "跳过", lambda m: "提交" in m.labels)
    await tap(u, "提交", lambda m: "确认提交" in m.labels)
    await tap(u, "确认提交", lambda m: "感谢" in (m.text or ""))

    assert chain_pending(engine, campaign.id) == 1
    with session_scope(engine) as s:
        (ballot,) = s.exec(select(Ballot)).all()
        rows = s.exec(select(Answer).where(Answer.ballot_id == ballot.id)).all()
        assert len(rows) == 24 * 6
        rated = {}
        for a in rows:
            rated.setdefault(a.evaluee_key, set()).add(a.option_key)
        answered = {k for k, options in rated.items() if options != {None}}
        assert answered == {"tax-hall", "civil-affairs", "court", "water-supply", "power"}
        assert len(rated) - len(answered) == 19  # 不了解 on every aspect, 市教育局 among them
        assert rated["education"] == {None} and rated["tax-hall"] == {"satisfied"}
        assert [o.evaluee_key for o in s.exec(select(Opinion))] == []  # 市教育局's opinion went with its pick
        assert ballots.verify_chain(s, campaign.id) == []
    await say(u, "/resume", "已经提交")
    # 30 taps in all (consent 1, picks 8, answers 14, the change of picks and its answer
    # 6, submit 2), and every one of them answered
    assert len([c for c in srv.calls if c.method == "answerCallbackQuery"]) == 30 == len(u.answers())
