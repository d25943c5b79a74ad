"""Simulated raters for the demo and the benchmarks: they read the card a person would
see (its text and button labels) and decide what a person would tap or type."""

from __future__ import annotations

import random
from dataclasses import dataclass

from flows.campaign import Campaign
import flows.chat  # noqa: F401  (registers the enrolment texts)
from flows.i18n import t

OPINIONS = [
    "窗口办事效率明显提高，希望继续保持。",
    "建议进一步简化审批流程，减少群众跑腿次数。",
    "个别工作人员态度生硬，希望加强作风建设。",
    "乡村道路养护不及时，雨季坑洼较多。",
    "政务公开做得不错，但网站信息更新较慢。",
    "希望多深入基层听取群众意见。",
    "资金使用情况应当更加公开透明。",
    "服务热线经常占线，建议增加人手。",
]


@dataclass
class Decision:
    tap: str | None = None  # a button label
    text: str | None = None  # or a text to type
    leave: bool = False  # abandon the questionnaire


class Persona:
    """One simulated rater with a temperament: how generous, how often unsure, how talkative."""

    def __init__(self, campaign: Campaign, rng: random.Random, locale: str = "zh") -> None:
        self.c, self.rng, self.locale = campaign, rng, locale
        self.generosity = rng.uniform(-0.25, 0.25)
        self.unsure = rng.uniform(0.0, 0.2)
        self.talkative = rng.uniform(0.05, 0.45)
        self.abandons_after = rng.randint(3, 40) if rng.random() < 0.06 else None
        self.went_back = False
        self.steps = 0
        self.scale = {campaign.text(o.label, locale): i for i, o in enumerate(campaign.scale)}
        self.dont_know = campaign.text(campaign.dont_know, locale)
        self.quality = {e.key: random.Random(e.key).uniform(0.6, 0.97) for e in campaign.evaluees}
        self.labels = {k: t(k, locale) for k in ("q.back", "q.skip", "q.submit", "q.confirm", "q.keep_opinion",
                                                 "enrol.agree", "invite.start", "remind.continue")}

    def decide(self, text: str, labels: list[str]) -> Decision:
        self.steps += 1
        if self.abandons_after is not None and self.steps > self.abandons_after:
            return Decision(leave=True)
        rng = self.rng
        for start in ("enrol.agree", "invite.start", "remind.continue"):  # consent; an invitation
            if self.labels[start] in labels:
                return Decision(tap=self.labels[start])
        if self.labels["q.confirm"] in labels:
            return Decision(tap=self.labels["q.confirm"])
        if self.labels["q.submit"] in labels:
            return Decision(tap=self.labels["q.submit"])
        if self.dont_know in labels:
            if not self.went_back and self.labels["q.back"] in labels and rng.random() < 0.03:
                self.went_back = True
                return Decision(tap=self.labels["q.back"])
            if rng.random() < self.unsure:
                return Decision(tap=self.dont_know)
            return Decision(tap=self._rating(text, labels))
        if self.labels["q.skip"] in labels:  # the opinion step
            if rng.random() < self.talkative:
                return Decision(text=rng.choice(OPINIONS))
            return Decision(tap=self.labels["q.skip"])
        if self.labels["q.keep_opinion"] in labels:
            return Decision(tap=self.labels["q.keep_opinion"])
        return Decision(leave=True)

    def _rating(self, text: str, labels: list[str]) -> str:
        quality = next((v for e, v in self.quality.items() if self.c.text(self.c.evaluee(e).name, self.locale) in text), 0.7)
        p = min(max(quality + self.generosity, 0.02), 0.98)
        # Higher p shifts the choice towards the first (best) scale options.
        options = [label for label in self.scale if label in labels]
        weights = [p ** (len(options) - 1 - i) * (1 - p) ** i + 0.02 for i in range(len(options))]
        return self.rng.choices(options, weights)[0]
