"""The server's HTTP surface, the user handles, lifecycle modes, parser and limiter units."""

from __future__ import annotations

import io
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from devtools.devserver import BotAPIServer, RateLimitConfig, RateLimiter, parse_html
from devtools.devserver.cli import Console
from devtools.devserver.htmltext import EntityParseError
from devtools.devserver.testing import aiogram_bot


def call(srv: BotAPIServer, method: str, *, token: str | None = None, json_body: dict | None = None,
         form: dict | None = None, query: dict | None = None) -> tuple[int, dict]:
    url = f"{srv.base_url}/bot{token or srv.token}/{method}"
    if query:
        url += "?" + urllib.parse.urlencode(query)
    data, headers = None, {}
    if json_body is not None:
        data, headers = json.dumps(json_body).encode(), {"Content-Type": "application/json"}
    elif form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
    req = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


# ---------------------------------------------------------------------------- HTTP surface
def test_http_errors_and_body_kinds(srv):
    assert call(srv, "getMe", token="1:wrong") == (401, {"ok": False, "error_code": 401,
                                                         "description": "Unauthorized"})
    assert call(srv, "noSuchMethod") == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    srv.user(7)
    kb = json.dumps({"inline_keyboard": [[{"text": "a", "callback_data": "1"}]]})
    status, body = call(srv, "sendmessage", form={"chat_id": "7", "text": "form", "reply_markup": kb})
    assert status == 200 and body["result"]["reply_markup"]["inline_keyboard"][0][0]["text"] == "a"
    status, body = call(srv, "sendMessage", query={"chat_id": 7, "text": "query"})
    assert status == 200 and body["result"]["text"] == "query"
    status, body = call(srv, "sendMessage", json_body={"chat_id": 7, "text": "json", "parse_mode": "HTML"})
    assert status == 200 and body["result"]["message_id"] == 3
    status, body = call(srv, "sendMessage", form={"chat_id": "7", "text": "x", "reply_markup": "{bad"})
    assert (status, body["description"]) == (400, "Bad Request: can't parse reply keyboard markup JSON object")
    status, body = call(srv, "sendMessage", json_body={
        "chat_id": 7, "text": "x", "reply_markup": {"inline_keyboard": [[{"text": "plain"}]]}})
    assert body["description"] == ("Bad Request: can't parse inline keyboard button: "
                                   "Text buttons are unallowed in the inline keyboard")
    status, body = call(srv, "sendMessage", json_body={"chat_id": 7, "text": "a & b < c", "parse_mode": "HTML"})
    assert status == 400 and body["description"].startswith("Bad Request: can't parse entities: ")
    assert [c.method for c in srv.calls][:3] == ["getMe", "noSuchMethod", "sendMessage"]


def test_in_loop_mode_and_conflicting_pollers():
    import asyncio

    async def scenario():
        async with BotAPIServer("9:x", rate_limit=False) as srv:
            bot1, bot2 = aiogram_bot(srv), aiogram_bot(srv)
            try:
                from aiogram.exceptions import TelegramConflictError

                first = asyncio.create_task(bot1.get_updates(timeout=5))
                await asyncio.sleep(0.2)
                second = asyncio.create_task(bot2.get_updates(timeout=5))
                with pytest.raises(TelegramConflictError, match="terminated by other getUpdates request"):
                    await first
                srv.user(1).send("hi")  # sync user call from inside the server's loop is fine
                assert [u.message.text for u in await second] == ["hi"]
                with pytest.raises(RuntimeError, match="wait_for_async"):
                    srv.user(1).wait_for("x", timeout=0.1)
            finally:
                await bot1.session.close()
                await bot2.session.close()

    asyncio.run(scenario())


# ---------------------------------------------------------------------------- user handles
def test_tap_errors_list_labels(srv):
    u = srv.user(8)
    with pytest.raises(LookupError, match="no message with an inline keyboard"):
        u.tap("满意")
    call(srv, "sendMessage", json_body={"chat_id": 8, "text": "q", "reply_markup": {
        "inline_keyboard": [[{"text": "满意", "callback_data": "y"}, {"text": "不满意", "callback_data": "n"}]]}})
    with pytest.raises(LookupError) as info:
        u.tap("一般")
    assert "'满意', '不满意'" in str(info.value) and "[1] bot : q" in str(info.value)
    qid = u.tap("满意", message_id=1)
    assert qid and srv.pending_updates == 1


def test_reply_keyboard_tap_sends_text(srv):
    u = srv.user(9)
    call(srv, "sendMessage", json_body={"chat_id": 9, "text": "share?", "reply_markup": {
        "keyboard": [[{"text": "分享手机号", "request_contact": True}], ["取消"]], "resize_keyboard": True}})
    assert u.last().reply_keyboard == [["分享手机号"], ["取消"]]
    u.tap("取消")
    u.tap("分享手机号")
    status, body = call(srv, "getUpdates")
    assert body["result"][0]["message"]["text"] == "取消"
    assert body["result"][1]["message"]["contact"]["user_id"] == 9


def test_wait_for_across_threads_and_timeout_transcript(srv):
    u = srv.user(10)
    u.send("/start")

    def bot_replies_later():
        time.sleep(0.2)
        call(srv, "sendMessage", json_body={"chat_id": 10, "text": "<i>ready</i>", "parse_mode": "HTML"})

    threading.Thread(target=bot_replies_later).start()
    got = u.wait_for(lambda m: m.text == "ready", timeout=3)
    assert got.html == "<i>ready</i>" and got.entities == [{"type": "italic", "offset": 0, "length": 5}]
    with pytest.raises(TimeoutError) as info:
        u.wait_for("never", timeout=0.2, new=True)
    assert "[1] user: /start" in str(info.value) and "[2] bot : ready" in str(info.value)


def test_inject_duplicate_update_and_wait_idle(srv):
    u = srv.user(11)
    u.send("one")
    _, body = call(srv, "getUpdates")
    [update] = body["result"]
    call(srv, "getUpdates", query={"offset": update["update_id"] + 1})
    assert srv.pending_updates == 0
    assert srv.inject_update(update) == update["update_id"]  # the same update again
    _, body = call(srv, "getUpdates", query={"offset": update["update_id"] + 1})
    assert body["result"] == [update]
    with pytest.raises(TimeoutError, match="not yet confirmed"):
        srv.wait_idle(timeout=0.2)
    call(srv, "getUpdates", query={"offset": update["update_id"] + 1, "timeout": 0})
    srv.wait_idle(timeout=2, quiet=0.05)


def test_allowed_updates_and_negative_offset(srv):
    u = srv.user(12)
    for text in ("a", "b", "c"):
        u.send(text)
    _, body = call(srv, "getUpdates", query={"offset": -1})
    assert [x["message"]["text"] for x in body["result"]] == ["c"]
    _, body = call(srv, "getUpdates", json_body={"allowed_updates": ["callback_query"],
                                                 "offset": body["result"][-1]["update_id"] + 1})
    assert body["result"] == []
    call(srv, "sendMessage", json_body={"chat_id": 12, "text": "k", "reply_markup": {
        "inline_keyboard": [[{"text": "t", "callback_data": "d"}]]}})
    u.tap("t")
    u.send("m")  # not created: the bot asked for callback queries only
    _, body = call(srv, "getUpdates")
    assert [next(k for k in x if k != "update_id") for x in body["result"]] == ["callback_query"]
    assert srv.inject_update({"message": {}}) is None


# ---------------------------------------------------------------------------- units
@pytest.mark.parametrize("source, error", [
    ("🏟 🏟&lt;<abacaba", "Unclosed start tag at byte offset 13"),
    ("🏟 🏟&lt;<abac aba>", 'Unsupported start tag "abac" at byte offset 13'),
    ("🏟 🏟&lt;<i    aba>", 'Expected equal sign in declaration of an attribute of the tag "i" at byte offset 13'),
    ("🏟 🏟&lt;<b></b></", "Unexpected end tag at byte offset 20"),
    ("🏟 🏟&lt;<i>a</em   >", 'Unmatched end tag at byte offset 17, expected "</i>", found "</em>"'),
    ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
    ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ("&#57311;", "Text contains invalid Unicode characters after decoding HTML entities, "
                 "check for unmatched surrogate code units"),
])
def test_html_errors_match_tdlib(source, error):
    with pytest.raises(EntityParseError) as info:
        parse_html(source)
    assert str(info.value) == error


def test_html_parsing():
    assert parse_html("&lt;&gt;&amp;&quot;&laquo;&#20013;") == ('<>&"&laquo;中', [])
    text, ents = parse_html('😀<b>粗<i>斜</i></b> <a href="https://t.me/x">l</a><pre><code class="language-py">p</code></pre>'
                            '<tg-spoiler>s</tg-spoiler><blockquote>q</blockquote><u>u</u><s>x</s>')
    assert text == "😀粗斜 lpsqux"
    assert ents == [
        {"type": "bold", "offset": 2, "length": 2}, {"type": "italic", "offset": 3, "length": 1},
        {"type": "text_link", "offset": 5, "length": 1, "url": "https://t.me/x"},
        {"type": "pre", "offset": 6, "length": 1, "language": "py"},
        {"type": "spoiler", "offset": 7, "length": 1}, {"type": "blockquote", "offset": 8, "length": 1},
        {"type": "underline", "offset": 9, "length": 1}, {"type": "strikethrough", "offset": 10, "length": 1}]


def test_rate_limiter_token_buckets():
    now = [0.0]
    lim = RateLimiter(RateLimitConfig(global_per_second=3, global_burst=3), clock=lambda: now[0])
    assert lim.acquire(1) is None and lim.acquire(1) is None
    assert lim.acquire(1) == 1  # third in the same instant
    assert lim.acquire(2) is None
    assert lim.acquire(3) == 1  # global bucket (3/s) empty
    now[0] = 1.0
    assert lim.acquire(1) is None
    assert lim.acquire(-100, "edit") is None and lim.applies("edit") is False
    slow = RateLimiter(RateLimitConfig(per_chat_per_second=0.2, per_chat_burst=1), clock=lambda: now[0])
    assert slow.acquire(5) is None and slow.acquire(5) == 5
    off = RateLimiter(RateLimitConfig(enabled=False))
    assert all(off.acquire(1) is None for _ in range(100))


def test_console_commands(srv):
    out = io.StringIO()
    console = Console(srv, out)
    srv.add_listener(console.on_bot_event)
    assert console.run_line("@100 /start abc")
    call(srv, "sendMessage", json_body={"chat_id": 100, "text": "选", "reply_markup": {
        "inline_keyboard": [[{"text": "满意", "callback_data": "s"}]]}})
    assert console.run_line("@100 tap 满意")
    assert console.run_line("@100 show")
    assert console.run_line("@100 tap 没有")
    assert console.run_line("status")
    assert not console.run_line("quit")
    text = out.getvalue()
    assert "→ chat 100 [2] bot : 选  [满意]" in text
    assert "tapped '满意'" in text and "[1] user: /start abc" in text
    assert "error: user 100: no button '没有'" in text and "pending updates: 2" in text


def test_console_opens_a_mini_app_with_signed_launch_data(srv):
    from urllib.parse import parse_qsl, urlsplit

    from aiogram.utils.web_app import check_webapp_signature

    out = io.StringIO()
    console = Console(srv, out)
    assert console.run_line("@100 app")  # nothing to open yet: said, not raised
    call(srv, "sendMessage", json_body={"chat_id": 100, "text": "评议", "reply_markup": {
        "inline_keyboard": [[{"text": "打开", "web_app": {"url": "https://bot.example.org/app/"}}]]}})
    assert console.run_line("@100 app 打开")
    lines = out.getvalue().strip().splitlines()
    first, url = lines[0], lines[-1]
    assert "error: user 100: no Mini App button" in first
    assert url.startswith("https://bot.example.org/app/#tgWebAppData=")
    data = dict(parse_qsl(urlsplit(url).fragment))["tgWebAppData"]
    assert check_webapp_signature(srv.token, data) and '"id":100' in dict(parse_qsl(data))["user"]
