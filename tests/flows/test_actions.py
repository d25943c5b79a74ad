"""One codec for button actions: prefixes have one owner, every action fits the budget,
and the formats of buttons already on people's screens do not change."""

from __future__ import annotations

import pytest

from flows import actions, chat
from flows import questionnaire as q
from flows import rectification as rf
from flows.messages import Button


def test_each_conversation_owns_its_prefixes():
    owners = actions.owners()
    assert {p for p, o in owners.items() if o == "questionnaire"} == set("abcdeghkmoprstvwx")
    assert (owners["L"], owners["C"], owners["R"], owners["F"]) == ("language", "enrolment", "rectification",
                                                                    "rectification")
    assert actions.owner("a3.0.1.2") == "questionnaire" and actions.owner("Rm12.") == "rectification"
    assert actions.owner("Z1") is None and actions.owner(None) is None


@pytest.mark.parametrize("prefix", ["a", "R", "Ry", "Lz"])
def test_a_prefix_taken_by_another_owner_fails(prefix):
    with pytest.raises(actions.ActionError, match="clashes"):
        actions.claim("someone-else", prefix)
    assert "someone-else" not in actions.owners().values()


def test_an_action_over_the_budget_or_not_ascii_is_refused():
    with pytest.raises(actions.ActionError):
        actions.pack("a", *range(30))
    with pytest.raises(actions.ActionError):
        Button("x", "a" + "1" * actions.MAX_BYTES)
    with pytest.raises(actions.ActionError):
        Button("x", "L中文")
    with pytest.raises(actions.ActionError, match="not claimed"):
        actions.pack("Q", 1)


def test_formats_on_screens_stay_the_same():
    """Buttons sent before this codec existed still parse (and mean the same)."""
    assert rf.action("m", 12) == "Rm12." and rf.parse_action("Rn5.3") == ("n", 5, "3")
    assert rf.followup_action(7, None) == "F7.n" and rf.parse_followup("F7.2") == (7, 2)
    assert rf.parse_followup("F7.2.1") is None and rf.parse_action("Rm12") is None
    assert (chat.CONSENT_YES, chat.CONSENT_NO, chat.START) == ("Cy", "Cn", "Cs")
    assert chat.parse_language_action("Len") == "en" and chat.parse_language_action("Lxx") is None
    assert q._act("s", 3) == "s3" and q._decode("a3.0.1.2") == ("a", [3, 0, 1, 2])
