"""A person in the chat, driven through ``Service.handle`` in-process: reads the last card,
taps buttons by label, types text and commands. Every call is a new Telegram update."""

from __future__ import annotations

import itertools

from bot.service import Incoming, Reply, Service

_update_ids = itertools.count(1)


class ChatUser:
    def __init__(self, service: Service, chat_id: int, language_code: str | None = "zh") -> None:
        self.service, self.chat_id, self.lang = service, chat_id, language_code
        self.screen = None  # the last message with buttons
        self.last: Reply | None = None

    def _send(self, **kw) -> Reply:
        self.last = self.service.handle(Incoming(self.chat_id, update_id=next(_update_ids),
                                                 language_code=self.lang, **kw))
        with_buttons = [m for m in self.last.messages if m.buttons]
        if with_buttons:
            self.screen = with_buttons[-1]
        return self.last

    def start(self, payload: str = "") -> Reply:
        return self._send(kind="start", text=payload)

    def text(self, text: str) -> Reply:
        return self._send(kind="text", text=text)

    def command(self, name: str, args: str = "") -> Reply:
        return self._send(kind="command", command=name, text=args)

    def tap(self, label: str) -> Reply:
        action = next((b.action for b in self.screen.all_buttons() if b.label == label), None)
        assert action is not None, f"no button {label!r} in {[b.label for b in self.screen.all_buttons()]}"
        return self._send(kind="tap", data=action)

    def tap_data(self, data: str) -> Reply:
        return self._send(kind="tap", data=data)

    def texts(self) -> str:
        """Everything the last reply said: its messages and its toast."""
        return "\n".join(m.text for m in self.last.messages) + (self.last.toast or "")
