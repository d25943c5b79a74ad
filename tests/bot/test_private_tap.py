"""The aiogram adapter reads a private button press straight from Telegram's JSON
(``private_tap``), past aiogram's dispatcher: it must read what aiogram reads, and leave
everything else to aiogram."""

from __future__ import annotations

import pytest
from aiogram.types import Update

from bot.telegram.aiogram_app import private_tap


def tap(**query) -> dict:  # noqa: ANN003
    base = {"id": "77", "from": {"id": 5, "is_bot": False, "first_name": "A", "language_code": "en"},
            "chat_instance": "9", "data": "q:a:3",
            "message": {"message_id": 12, "date": 1_700_000_000, "chat": {"id": 5, "type": "private"},
                        "text": "card", "reply_markup": {"inline_keyboard": [[{"text": "x", "callback_data": "y"}]]}}}
    return {"update_id": 31, "callback_query": {**base, **query}}


WELL_FORMED = [
    tap(),
    tap(data="q:b"),
    {"update_id": 32, "callback_query": {k: v for k, v in tap()["callback_query"].items() if k != "data"}},
    tap(**{"from": {"id": 5, "is_bot": False, "first_name": "A"}}),  # no language
    tap(message={"message_id": 12, "date": 0, "chat": {"id": 5, "type": "private"}}),  # inaccessible
]


@pytest.mark.parametrize("update", WELL_FORMED)
def test_it_reads_what_aiogram_reads(update):
    inc, query_id = private_tap(update)
    query = Update.model_validate(update).callback_query
    assert (inc.chat_id, inc.kind, inc.update_id, inc.data, inc.language_code, query_id) == (
        query.message.chat.id, "tap", update["update_id"], query.data or "", query.from_user.language_code, query.id)


ELSEWHERE = {
    "a group": tap(message={"message_id": 12, "date": 1, "chat": {"id": -100, "type": "group", "title": "G"}}),
    "an inline message (no message)": {"update_id": 1, "callback_query": {
        k: v for k, v in tap()["callback_query"].items() if k != "message"} | {"inline_message_id": "i"}},
    "a message update": {"update_id": 2, "message": {"message_id": 1, "date": 1, "chat": {"id": 5, "type": "private"},
                                                     "text": "hi"}},
    "data not a string": tap(data=7),
    "a chat id that is a bool": tap(message={"message_id": 1, "date": 1, "chat": {"id": True, "type": "private"}}),
    "a chat id that is text": tap(message={"message_id": 1, "date": 1, "chat": {"id": "5", "type": "private"}}),
    "no message id": tap(message={"date": 1, "chat": {"id": 5, "type": "private"}}),
    "a query id that is a number": tap(id=77),
    "no sender": {"update_id": 3, "callback_query": {k: v for k, v in tap()["callback_query"].items() if k != "from"}},
    "a language that is a number": tap(**{"from": {"id": 5, "is_bot": False, "first_name": "A", "language_code": 1}}),
    "an update id that is text": {**tap(), "update_id": "31"},
    "a message beside the tap": {**tap(), "message": {"message_id": 1, "date": 1, "chat": {"id": 5, "type": "private"},
                                                      "text": "hi"}},
}


@pytest.mark.parametrize("update", ELSEWHERE.values(), ids=ELSEWHERE.keys())
def test_anything_else_is_left_to_aiogram(update):
    assert private_tap(update) is None
