"""Single-use codes (deep links a person redeems once): the effect that uses one up.

Pure data; the runtime's applier (``bot/app/codes.py``) uses the code up with a
conditional UPDATE and raises ``CodeUsed`` when it was used meanwhile (a concurrent
redemption), so that the entry can answer "code used" instead of binding twice.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RedeemCode:
    token: str


class CodeUsed(Exception):
    """The code was used up by another redemption between the read and the write."""
