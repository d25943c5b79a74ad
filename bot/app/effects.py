"""Effects: what a pure conversation step (``flows/``) asks to be done, as plain data,
applied here inside the event's transaction — one applier per effect type. A second
applier for a type fails at import; an effect without one fails loudly instead of being
dropped."""

from __future__ import annotations

import typing
from collections.abc import Callable, Iterable
from typing import Any

from sqlmodel import Session

_appliers: dict[type, Callable[..., None]] = {}


def applies(kind: type) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Register the applier of ``kind``: ``fn(session, effect, **context)``."""
    def register(fn: Callable[..., None]) -> Callable[..., None]:
        if kind in _appliers:
            raise TypeError(f"{kind.__name__} already has an applier ({_appliers[kind].__qualname__})")
        _appliers[kind] = fn
        return fn
    return register


def apply(session: Session, effects: Iterable[object], **context: Any) -> None:
    for effect in effects:
        fn = _appliers.get(type(effect))
        if fn is None:
            raise TypeError(f"no applier for {type(effect).__name__}")
        fn(session, effect, **context)


def missing(union: object) -> list[str]:
    """The effect types of a union (e.g. ``flows.rectification.Effect``), or of one type,
    without an applier."""
    return [k.__name__ for k in typing.get_args(union) or (union,) if k not in _appliers]
