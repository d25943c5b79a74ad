"""One applier per effect type: a second one fails, an effect without one fails loudly,
and every effect a flow can return has its applier."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.app import effects
from bot.app import enrolment, evaluee, organizer, questionnaire, rectification  # noqa: F401  (register the appliers)
from flows import enrolment as fe
from flows import evaluee as ev
from flows import organizer as org
from flows import questionnaire as q
from flows import rectification as rf


def test_every_effect_of_the_rectification_step_has_an_applier():
    assert effects.missing(rf.Effect) == []


def test_the_questionnaire_seal_has_its_applier():
    assert effects.missing(q.SealBallot) == []


def test_every_effect_of_the_organizer_and_evaluee_steps_has_an_applier():
    assert effects.missing(org.Effect) == []
    assert effects.missing(ev.Effect) == []


def test_every_effect_of_the_enrolment_step_has_an_applier():
    assert effects.missing(fe.Effect) == []


def test_a_second_applier_for_a_type_is_refused():
    with pytest.raises(TypeError, match="SavePlan already has an applier"):
        effects.applies(rf.SavePlan)(lambda session, effect, **kw: None)


def test_an_effect_without_an_applier_is_not_dropped_silently():
    @dataclass
    class Unknown:
        x: int = 1

    with pytest.raises(TypeError, match="no applier for Unknown"):
        effects.apply(None, [Unknown()])
