"""The aiogram adapter reads a private button press straight from Telegram's JSON
(``private_tap``), past aiogram's dispatcher: it must read what aiogram reads, and leave
everything else to aiogram."""

from __future__ import annotations

import copy

import pytest
from aiogram.types import Update

from bot.telegram.aiogram_app import _trimmed, private_tap


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
    "no chat_instance": {"update_id": 4, "callback_query": {
        k: v for k, v in tap()["callback_query"].items() if k != "chat_instance"}},
    "a sender without is_bot and first_name": tap(**{"from": {"id": 5}}),
    "a date that is text": tap(message={"message_id": 1, "date": "x", "chat": {"id": 5, "type": "private"}}),
    "a chat with a nested object": tap(message={"message_id": 1, "date": 1, "chat": {
        "id": 5, "type": "private", "photo": {"small_file_id": "a"}}}),
    "a message beside the tap": {**tap(), "message": {"message_id": 1, "date": 1, "chat": {"id": 5, "type": "private"},
                                                      "text": "hi"}},
}


@pytest.mark.parametrize("update", ELSEWHERE.values(), ids=ELSEWHERE.keys())
def test_anything_else_is_left_to_aiogram(update):
    assert private_tap(update) is None


def _mutations():  # noqa: ANN202
    """Every field of a tap (and a few new ones) deleted or replaced by values of other types."""
    values = [None, 7, 2**70, -1, 1.5, "x", "", True, False, {}, [], {"id": 5}]
    base = tap()
    paths = [("update_id",), ("callback_query", "new_field")]
    for parent in (("callback_query",), ("callback_query", "from"), ("callback_query", "message"),
                   ("callback_query", "message", "chat")):
        node = base
        for key in parent:
            node = node[key]
        paths += [(*parent, key) for key in node] + [(*parent, "extra_field")]
    for path in paths:
        for value in [...] + values:  # ... stands for "deleted"
            update = copy.deepcopy(base)
            node = update
            for key in path[:-1]:
                node = node[key]
            if value is ...:
                node.pop(path[-1], None)
            else:
                node[path[-1]] = value
            yield pytest.param(update, id=f"{'.'.join(path)}={value!r}"[:60])


@pytest.mark.parametrize("update", list(_mutations()))
def test_what_it_takes_aiogram_takes_as_the_same_private_tap(update):
    """The converse: a shape aiogram would refuse, coerce or route elsewhere is never taken
    here (it would skip aiogram's validation)."""
    tapped = private_tap(update)
    if tapped is None:
        return  # aiogram decides, as before
    query = Update.model_validate(_trimmed(update)).callback_query  # raises if aiogram refuses
    inc, query_id = tapped
    assert query.message.chat.type == "private"
    assert (inc.chat_id, inc.update_id, inc.data, inc.language_code, query_id) == (
        query.message.chat.id, update["update_id"], query.data or "", query.from_user.language_code, query.id)
