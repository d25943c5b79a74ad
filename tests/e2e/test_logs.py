"""What an operator's log shows, read from a real ``minping run`` process (both
frameworks, polling and webhook, INFO and DEBUG, text and JSON) while raters enrol,
answer, write opinions and submit through the local Bot API server: no token, no
webhook secret, no database password, no opinion, no answer or callback data beside a
chat id, and at INFO a number of lines that does not grow with the number of updates."""

from __future__ import annotations

import asyncio
import json
import re
import signal

import pytest

from tests.e2e.rater import card_with, enrol, say, tap
from tests.run_process import MinpingRun, database_url

pytestmark = pytest.mark.postgres

SCALE = ("满意", "比较满意", "基本满意", "不满意", "不了解")
OPTION_KEYS = ("satisfied", "fairly", "basically", "dissatisfied")
PASSWORD = "pw-Never-In-Logs-42"  # PostgreSQL here trusts 127.0.0.1, so any password connects


def opinion(uid: int, evaluee: str) -> str:
    return f"对{evaluee}的意见{uid}号：窗口排队太久希望增加人手"


async def rater(u, token: str) -> None:  # noqa: ANN001
    """One whole questionnaire: enrol, four answers, two opinions, submit."""
    await enrol(u, token)
    await tap(u, "满意", card_with("交通局", "工作效能"))
    await tap(u, "比较满意", lambda m: "跳过" in m.labels)
    await say(u, opinion(u.id, "交通局"), card_with("水利局", "工作作风"))
    await tap(u, "基本满意", card_with("水利局", "工作效能"))
    await tap(u, "不满意", lambda m: "跳过" in m.labels)
    await say(u, opinion(u.id, "水利局"), lambda m: "提交" in m.labels)
    await tap(u, "提交", lambda m: "确认提交" in m.labels)
    await tap(u, "确认提交", lambda m: "谢谢" in (m.text or "") or "感谢" in (m.text or ""))


async def answer_all(srv, token: str, uids: range) -> None:  # noqa: ANN001
    await asyncio.gather(*(rater(srv.user(uid, f"评议人{uid}"), token) for uid in uids))
    await srv.wait_idle_async(8)


def db_url(engine) -> str:  # noqa: ANN001
    url = database_url(engine)
    if engine.dialect.name == "postgresql":  # a password that must never be logged
        url = url.replace("://postgres@", f"://postgres:{PASSWORD}@", 1)
        assert PASSWORD in url
    return url


def assert_nothing_leaks(text: str, srv, uids: range, secrets: list[str]) -> None:  # noqa: ANN001
    for secret in secrets:
        assert secret not in text, f"a secret is in the log:\n{text}"
    for uid in uids:
        for evaluee in ("交通局", "水利局"):
            assert opinion(uid, evaluee) not in text, f"an opinion is in the log:\n{text}"
        assert f"意见{uid}号" not in text
    data = {a.data for a in srv.callback_answers if a.data}
    assert data, "the raters pressed buttons"
    for line in text.splitlines():
        ids = [uid for uid in uids if re.search(rf"(?<!\d){uid}(?!\d)", line)]
        if not ids:
            continue
        assert not [d for d in data if d in line], f"callback data beside chat id {ids}: {line}"
        assert not [w for w in SCALE + OPTION_KEYS if w in line], f"an answer beside chat id {ids}: {line}"


def secrets_of(run: MinpingRun) -> list[str]:
    token = run.token
    found = [token, token.split(":", 1)[1], PASSWORD]
    if run.mode == "webhook":
        found.append(run.env["MINPING_WEBHOOK_SECRET"])
    return found


async def one_run(tmp_path, srv, url: str, framework: str, token: str, uids: range, *,  # noqa: ANN001
                  mode: str = "polling", env: dict | None = None) -> MinpingRun:
    run = MinpingRun(tmp_path, srv, url, framework=framework, mode=mode, env=env, stderr_apart=True)
    with run:
        run.start()
        await answer_all(srv, token, uids)
        assert run.term(signal.SIGINT) == 0, run.output  # stops as the operator's Ctrl-C
    return run


async def test_info_logs_are_quiet_and_do_not_grow_with_updates(engine, api_server, framework, loaded, tmp_path):
    _, token = loaded
    url, env = db_url(engine), {"MINPING_LOG_LEVEL": "INFO"}
    few = await one_run(tmp_path, api_server, url, framework, token, range(31_001, 31_004), env=env)
    many = await one_run(tmp_path, api_server, url, framework, token, range(32_001, 32_013), env=env)
    logs_few, logs_many = "".join(few.err_lines), "".join(many.err_lines)
    # 12 raters (~150 updates) log exactly as many lines as 3 (~40): start, stop, no
    # line per update, no idle line of the sender or the scheduler.
    assert len(many.err_lines) == len(few.err_lines), f"3 raters:\n{logs_few}\n12 raters:\n{logs_many}"
    assert len(many.err_lines) <= 6, logs_many
    assert "running on " + framework in logs_many  # the operator still sees it start
    for run, uids in ((few, range(31_001, 31_004)), (many, range(32_001, 32_013))):
        assert_nothing_leaks(run.output + "".join(run.err_lines), api_server, uids, secrets_of(run))
        # Third-party INFO (httpx's request lines, aiogram's "Update id=… is handled") is off.
        assert "HTTP Request" not in "".join(run.err_lines)
        assert "is handled" not in "".join(run.err_lines)


async def test_debug_logs_show_kinds_not_content(engine, api_server, framework, loaded, tmp_path):
    _, token = loaded
    uids = range(33_001, 33_005)
    run = await one_run(tmp_path, api_server, db_url(engine), framework, token, uids,
                        env={"MINPING_LOG_LEVEL": "DEBUG"})
    logs = "".join(run.err_lines)
    assert_nothing_leaks(run.output + logs, api_server, uids, secrets_of(run))
    assert len(run.err_lines) > 50, logs  # DEBUG does log (so the checks above saw something)
    # Each update taken from Telegram is logged as its kind and size.
    assert re.search(r"taking <update \d+: callback_query, \d+ bytes>", logs), logs
    if framework == "ptb":
        # PTB logs every Bot API call: its parameters shown as kind and size.
        assert re.search(r"endpoint `editMessageText` with parameters `<dict of [\w, ]+, \d+ bytes>`", logs), logs
        assert "HTTP Request: POST" in logs and "/bot[redacted]/" in logs  # httpx at DEBUG: URL without the token
    else:
        assert re.search(r"Update id=\d+ is handled", logs), logs


async def test_json_logs_in_webhook_mode_parse_and_keep_nothing_personal(engine, api_server, framework, loaded,
                                                                        tmp_path):
    _, token = loaded
    uids = range(34_001, 34_005)
    run = await one_run(tmp_path, api_server, db_url(engine), framework, token, uids, mode="webhook",
                        env={"MINPING_LOG_LEVEL": "DEBUG", "MINPING_LOG_FORMAT": "json",
                             "MINPING_WEBHOOK_SECRET": "hook-Secret-Never-Logged-7"})
    assert api_server.webhook_url  # the updates came by webhook, with the secret header
    assert any(re.search(r"webhook <update \d+: callback_query, \d+ bytes>", line) for line in run.err_lines)
    assert_nothing_leaks(run.output + "".join(run.err_lines), api_server, uids, secrets_of(run))
    records = [json.loads(line) for line in run.err_lines if line.strip()]  # every line is one JSON record
    assert len(records) > 20
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    assert any(r["message"].startswith("bot @") and "running on" in r["message"] for r in records)
    data = {a.data for a in api_server.callback_answers if a.data}
    for r in records:
        values = json.dumps(r, ensure_ascii=False)
        if any(re.search(rf"(?<!\d){uid}(?!\d)", values) for uid in uids):
            assert not any(d in values for d in data) and not any(w in values for w in SCALE + OPTION_KEYS), r
