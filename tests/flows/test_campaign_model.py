"""The campaign model keeps its invariants however it is built (a file, a stored
definition, code), not only when the YAML loader reads it."""

from __future__ import annotations

import copy

import pytest
from pydantic import ValidationError

from flows.campaign import Campaign
from tests.factories import campaign_data


def _broken(change) -> dict:  # noqa: ANN001
    data = copy.deepcopy(campaign_data())
    change(data)
    return data


@pytest.mark.parametrize(("change", "said"), [
    (lambda d: d.update(closes=d["opens"]), "closes must be later than opens"),
    (lambda d: d["evaluees"].append(dict(d["evaluees"][0])), r"evaluees: key\(s\) used twice: transport"),
    (lambda d: d["dimensions"].append(dict(d["dimensions"][0])), r"dimensions: key\(s\) used twice"),
    (lambda d: d["evaluees"][0].update(category="nowhere"), "undefined categories: nowhere"),
    (lambda d: [o.update(satisfied=False) for o in d["scale"]], "no scale option is marked satisfied"),
])
def test_the_model_refuses_what_would_break_the_tally(change, said):  # noqa: ANN001
    Campaign.model_validate(campaign_data())  # the unbroken campaign is fine
    with pytest.raises(ValidationError, match=said):
        Campaign.model_validate(_broken(change))
