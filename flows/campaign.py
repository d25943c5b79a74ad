"""The campaign file's typed model (DESIGN.md §4).

Pure data: validation lives here as pydantic validators, the YAML reading and the
line-numbered error messages live in ``flows.loader``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    ValidationInfo,
    field_validator,
    model_validator,
)

from pydantic_core import PydanticCustomError

from flows.cron import validate_cron

# A text is a plain string or a mapping locale -> string.
Text = str | dict[str, str]

Key = str  # identifiers: letters, digits, '-', '_'
PRESELECT_ABOVE = 12  # default: raters with more evaluees than this pick the ones they know
KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$"
INVARIANT = "campaign_invariant"  # an error type the loader reports itself, with lines


class _Strict(BaseModel):
    # Unknown keys are errors: a typo in a campaign file must not be silently ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


def resolve(text: Text | None, locale: str, fallback: str) -> str:
    """The text in ``locale``, else in the campaign's first locale, else any."""
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    for loc in (locale, fallback):
        if loc in text:
            return text[loc]
    return next(iter(text.values()), "")


class ScaleOption(_Strict):
    key: Key = Field(pattern=KEY_PATTERN)
    label: Text
    points: float = Field(ge=0, le=100)
    satisfied: bool = False


class Dimension(_Strict):
    key: Key = Field(pattern=KEY_PATTERN)
    label: Text
    hint: Text | None = None


class OpinionSpec(_Strict):
    max_chars: int = Field(default=1000, ge=1, le=3500)
    prompt: Text | None = None


class Category(_Strict):
    key: Key = Field(pattern=KEY_PATTERN)
    label: Text


class Evaluee(_Strict):
    key: Key = Field(pattern=KEY_PATTERN)
    name: Text
    category: Key
    kind: Literal["unit", "person"] = "unit"
    # The unit whose staff rate this evaluee (``rates: own_unit``). A unit is its own
    # unit unless told otherwise; a person needs one.
    unit: Key | None = None
    duties: Text | None = None
    commitments: list[Text] = Field(default_factory=list)

    @property
    def own_unit(self) -> str | None:
        if self.unit:
            return self.unit
        return self.key if self.kind == "unit" else None


class RaterGroup(_Strict):
    key: Key = Field(pattern=KEY_PATTERN)
    label: Text
    weight: float = Field(ge=0)
    sample: int | None = Field(default=None, ge=1)
    rates: Literal["all", "own_unit"] = "all"
    open: bool = False
    # How people join: a reusable link, or single-use codes handed to each person
    # (`minping links --codes N`). Unset: codes for own-unit staff, else a link.
    enrol_by: Literal["link", "codes"] | None = None

    @property
    def by_codes(self) -> bool:
        return self.enrol_by == "codes" or (self.enrol_by is None and self.rates == "own_unit")


class Scoring(_Strict):
    # The rater groups' weights add up to this (seed 004: democratic evaluation out of 80).
    democratic_total: float = Field(default=80, gt=0)
    daily_base: float = Field(default=20, ge=0)
    deductions: dict[Key, float] = Field(default_factory=dict)
    bonus: dict[Key, float] = Field(default_factory=dict)

    @field_validator("deductions", "bonus")
    @classmethod
    def _non_negative(cls, v: dict[str, float]) -> dict[str, float]:
        for k, pts in v.items():
            if pts < 0:
                raise ValueError(f"points for '{k}' must not be negative (got {pts})")
        return v


class Schedule(_Strict):
    reminders_after_hours: list[float] = Field(default_factory=list)
    digest_cron: str | None = None
    invite_on_open: bool = False  # invite every drawn rater automatically once open

    @field_validator("reminders_after_hours")
    @classmethod
    def _positive(cls, v: list[float]) -> list[float]:
        if any(h <= 0 for h in v):
            raise ValueError("reminder hours must be positive")
        return sorted(v)

    @field_validator("digest_cron")
    @classmethod
    def _cron(cls, v: str | None) -> str | None:
        if v is not None:
            validate_cron(v)
        return v


class Rectification(_Strict):
    deadline_days: int = Field(default=30, ge=1)
    threshold: float = Field(default=0.8, ge=0, le=1)
    max_rounds: int = Field(default=2, ge=1)


class Campaign(_Strict):
    id: Key = Field(pattern=KEY_PATTERN)
    title: Text
    timezone: str = "Asia/Shanghai"
    locales: list[str] = Field(default_factory=lambda: ["zh", "en"], min_length=1)
    opens: datetime
    closes: datetime
    sealed: bool = True
    min_group_size: int = Field(default=5, ge=1)
    # Sealed ballots wait in envelopes and join the chain in shuffled batches of this
    # many, or after this many minutes (storage/ballots.py): chain order is not the order
    # in which people submitted.
    chain_batch: int = Field(default=10, ge=1, le=10_000)
    chain_batch_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    scale: list[ScaleOption] = Field(min_length=2)
    dont_know: Text = Field(default_factory=lambda: {"zh": "不了解", "en": "Don't know"})
    dimensions: list[Dimension] = Field(min_length=1)
    opinion: OpinionSpec = Field(default_factory=OpinionSpec)
    categories: list[Category] = Field(min_length=1)
    evaluees: list[Evaluee] = Field(min_length=1)
    rater_groups: list[RaterGroup] = Field(min_length=1)
    scoring: Scoring = Field(default_factory=Scoring)
    schedule: Schedule = Field(default_factory=Schedule)
    rectification: Rectification = Field(default_factory=Rectification)
    # Telegram chat ids: whole numbers (negative for group chats); "123" or 1.0 is refused.
    organizers: list[StrictInt] = Field(default_factory=list)
    # The group of service recipients rating one evaluee right after being served
    # (after-service links). Unset: the first group that rates all evaluees.
    service_group: Key | None = None
    # The earlier round of this evaluation (a closed campaign's id): the trend and the
    # rectification plans of that round are shown with this one. Only this link makes a
    # trend; a shared evaluee key alone does not.
    previous: Key | None = Field(default=None, pattern=KEY_PATTERN)
    # Pre-selection: a rater with more evaluees than this first picks the ones they know
    # (the rest count as 不了解 without a tap). true: always, false: never. Own-unit
    # staff and after-service raters never pick (flows.questionnaire.uses_preselection).
    preselect: bool | int = PRESELECT_ABOVE
    # Days to keep the raters' and contacts' personal data (chat ids, memberships' links,
    # drafts, messages) after the last rectification round closes (or after close when
    # nothing was published); then the scheduler purges them. Unset: kept until
    # `minping purge`. Ballots, the chain, the tally and the plans stay.
    retention_days: int | None = Field(default=None, ge=0, le=3650)
    # After-service rating is once per service visit: a person may rate again through an
    # after-service link this many hours after their previous visit (0: at once).
    service_cooldown_hours: float = Field(default=24, ge=0)

    # --- field checks -------------------------------------------------------------
    @field_validator("preselect", mode="before")
    @classmethod
    def _preselect(cls, v: object) -> object:
        if isinstance(v, bool) or (isinstance(v, int) and v >= 0):
            return v
        raise ValueError("must be true, false or a number of evaluees (pre-selection above that many; "
                         f"got {v!r})")

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone '{v}' (use a name like Asia/Shanghai)") from None
        return v

    @model_validator(mode="after")
    def _localize_times(self) -> Campaign:
        # Times in the file are wall-clock times of the campaign's time zone.
        tz = ZoneInfo(self.timezone)
        for name in ("opens", "closes"):
            t = getattr(self, name)
            if t.tzinfo is None:
                object.__setattr__(self, name, t.replace(tzinfo=tz))
        return self

    @field_validator("previous")
    @classmethod
    def _previous(cls, v: str | None, info: ValidationInfo) -> str | None:
        if v is not None and v == info.data.get("id"):
            raise ValueError(f"'{v}' is this campaign itself; name the earlier round's id")
        return v

    @model_validator(mode="after")
    def _service_group(self) -> Campaign:
        if self.service_group is not None:
            g = next((g for g in self.rater_groups if g.key == self.service_group), None)
            if g is None:
                raise ValueError(f"service_group '{self.service_group}' is not a rater group")
            if g.rates == "own_unit":
                raise ValueError(f"service_group '{self.service_group}' rates only its own unit; "
                                 "service recipients must be able to rate every evaluee")
        return self

    @model_validator(mode="after")
    def _invariants(self) -> Campaign:
        # What every part of the code may take for granted, however a campaign is made
        # (file, stored definition, test). The loader reports the same problems with
        # their lines (flows.loader._consistency) and skips these errors.
        problems: list[str] = []
        if self.closes <= self.opens:
            problems.append("closes must be later than opens")
        for section in ("scale", "dimensions", "categories", "evaluees", "rater_groups"):
            keys = [item.key for item in getattr(self, section)]
            if twice := sorted({k for k in keys if keys.count(k) > 1}):
                problems.append(f"{section}: key(s) used twice: {', '.join(twice)}")
        categories = {c.key for c in self.categories}
        if undefined := sorted({e.category for e in self.evaluees} - categories):
            problems.append(f"evaluees in undefined categories: {', '.join(undefined)}")
        if not any(o.satisfied for o in self.scale):
            problems.append("no scale option is marked satisfied")
        if problems:
            raise PydanticCustomError(INVARIANT, "{problems}", {"problems": "; ".join(problems)})
        return self

    # --- lookups --------------------------------------------------------------------
    @property
    def service_group_key(self) -> str | None:
        if self.service_group:
            return self.service_group
        return next((g.key for g in self.rater_groups if g.rates == "all"), None)

    @property
    def default_locale(self) -> str:
        return self.locales[0]

    def text(self, value: Text | None, locale: str) -> str:
        return resolve(value, locale, self.default_locale)

    def evaluee(self, key: str) -> Evaluee:
        return next(e for e in self.evaluees if e.key == key)

    def group(self, key: str) -> RaterGroup:
        return next(g for g in self.rater_groups if g.key == key)

    def preselects(self, n_evaluees: int) -> bool:
        """Whether a rater with this many evaluees picks the ones they know first."""
        if isinstance(self.preselect, bool):
            return self.preselect and n_evaluees > 1
        return n_evaluees > self.preselect

    def evaluees_for(self, group_key: str, unit: str | None = None) -> list[Evaluee]:
        """The evaluees a rater of ``group_key`` rates (only their own unit's for ``own_unit``)."""
        if self.group(group_key).rates == "own_unit":
            return [e for e in self.evaluees if e.own_unit == unit]
        return list(self.evaluees)

    @property
    def units(self) -> list[str]:
        seen: dict[str, None] = {}
        for e in self.evaluees:
            if e.own_unit:
                seen.setdefault(e.own_unit)
        return list(seen)
