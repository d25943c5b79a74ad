"""Button actions: one codec for every conversation.

An action is ``<prefix><field>.<field>…`` — ASCII, at most ``MAX_BYTES`` bytes, so that an
adapter's routing still fits Telegram's 64-byte ``callback_data``. Each prefix has one
owner, claimed when the owner's module is imported: a prefix claimed by two owners, or
one owner's prefix starting another owner's, fails at import rather than misrouting a
tap. ``owner(data)`` says whose a tap is.

Formats are part of the contract with buttons already on people's screens: changing
one makes those taps stale (answered with a toast, never misread).
"""

from __future__ import annotations

import re

MAX_BYTES = 48
_PREFIX = re.compile(r"[A-Za-z]{1,2}")
_owners: dict[str, str] = {}


class ActionError(ValueError):
    """A prefix taken twice, an unclaimed prefix, or an action over the budget."""


def claim(owner: str, *prefixes: str) -> tuple[str, ...]:
    for p in prefixes:
        if not _PREFIX.fullmatch(p):
            raise ActionError(f"button prefix {p!r}: one or two ASCII letters")
        for other_prefix, other in _owners.items():
            clash = p == other_prefix or p.startswith(other_prefix) or other_prefix.startswith(p)
            if clash and other != owner:
                raise ActionError(f"button prefix {p!r} of {owner} clashes with {other_prefix!r} of {other}")
        _owners[p] = owner
    return prefixes


def prefix_of(data: object) -> str | None:
    """The claimed prefix this action starts with (the longest), or None."""
    if not isinstance(data, str):
        return None
    return next((p for p in (data[:2], data[:1]) if p in _owners), None)


def owner(data: object) -> str | None:
    """Whose tap this is, or None."""
    p = prefix_of(data)
    return None if p is None else _owners[p]


def owners() -> dict[str, str]:
    return dict(_owners)


def pack(prefix: str, *fields: int | str) -> str:
    if prefix not in _owners:
        raise ActionError(f"button prefix {prefix!r} is not claimed (flows.actions.claim)")
    data = prefix + ".".join(str(f) for f in fields)
    check(data)
    return data


def check(data: str) -> str:
    """An action fits the budget (ASCII, at most MAX_BYTES bytes)."""
    if not data.isascii() or len(data) > MAX_BYTES:
        raise ActionError(f"button action {data[:60]!r} is not ASCII or longer than {MAX_BYTES} bytes")
    return data


def unpack(prefix: str, data: object) -> list[str] | None:
    """The fields of an action of ``prefix``, or None if it is not one (or is over budget)."""
    if not isinstance(data, str) or len(data) > MAX_BYTES or not data.startswith(prefix):
        return None
    rest = data[len(prefix):]
    return rest.split(".") if rest else []
