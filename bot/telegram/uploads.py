"""Upload a file once, then send it by its file id.

Telegram keeps every file a bot uploads and gives it a ``file_id`` the bot may send to
any chat. A digest's charts are the same bytes for every organizer of a campaign, so the
first send uploads them and the others send the id: ten organizers, one upload (less
bandwidth for the office, less work for Telegram and for the sender). Both adapters
share this; it knows nothing of their libraries.

Per process, the newest ``SIZE`` files by kind, name and content (SHA-256). A file id
Telegram no longer accepts (a ``BadRequest`` about the file) is forgotten and the file
uploaded again; other errors (a chat not found, flood control, a blocked chat, the
network) are the send's own and pass through, the file id kept.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from bot.channel import BadRequest

SIZE = 256

Upload = Callable[[], Awaitable[tuple[int, str | None]]]  # -> (message id, file id)
ById = Callable[[str], Awaitable[int]]  # file id -> message id


class Uploads:
    def __init__(self, size: int = SIZE) -> None:
        self.size = size
        self._ids: OrderedDict[tuple[str, str, bytes], str] = OrderedDict()
        # Uploads in flight: the sender sends to many chats at once, and the others wait
        # for the first upload's file id instead of uploading the same bytes beside it.
        self._uploading: dict[tuple[str, str, bytes], asyncio.Future] = {}

    async def send(self, kind: str, filename: str, data: bytes, upload: Upload, by_id: ById) -> int:
        """Send ``data`` as a ``kind`` ("photo", "document") named ``filename``; returns the
        message id. The name is part of the key: a document sent by id keeps its first name."""
        key = (kind, filename, hashlib.sha256(data).digest())
        while True:
            if (file_id := self._ids.get(key)) is not None:
                try:
                    message_id = await by_id(file_id)
                except BadRequest as exc:
                    if not _file_refused(exc):
                        raise  # about this chat or this caption: the id is still good
                    if self._ids.get(key) == file_id:  # Telegram no longer knows it: upload anew
                        del self._ids[key]
                else:
                    if key in self._ids:
                        self._ids.move_to_end(key)
                    return message_id
            if (first := self._uploading.get(key)) is None:
                break
            await asyncio.wait([first])  # then its file id, or (it failed) upload here
        self._uploading[key] = done = asyncio.get_running_loop().create_future()
        try:
            message_id, file_id = await upload()
        finally:
            del self._uploading[key]
            done.set_result(None)
        if file_id:
            self._ids[key] = file_id
            self._ids.move_to_end(key)
            while len(self._ids) > self.size:
                self._ids.popitem(last=False)
        return message_id


def _file_refused(exc: BadRequest) -> bool:
    """Whether Telegram refused the file id itself ("wrong file identifier/HTTP URL
    specified", "wrong remote file identifier specified", "FILE_REFERENCE_EXPIRED", …)."""
    text = str(exc).lower()
    return "file" in text or "identifier" in text
