"""The enrolment and consent rules (flows.enrolment), pure: a context in, replies and
effects out. Groups of the test campaign: ``recipients`` sampled by link, ``staff``
sampled by single-use codes (own unit), ``public`` open; after-service links rate as
``recipients``."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from flows import chat
from flows import enrolment as fe
from flows.codes import RedeemCode
from flows.i18n import t

NOW = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
CLOSED = chat.say("chat.closed", "en", title="Test review")
UPCOMING = chat.say("chat.upcoming", "en", title="Test review", opens="2026-12-01 09:00")


@pytest.fixture
def ctx(small_campaign) -> fe.Ctx:
    return fe.Ctx(campaign=small_campaign, locale="en", now=NOW)


def member(**kw: object) -> fe.Member:
    return fe.Member(**{"group_key": "recipients", "consented": True, **kw})


def texts(step) -> list[str]:  # noqa: ANN001
    return [m.text for m in step.outcome.messages]


def say(key: str, **kw: object) -> str:
    return chat.say(key, "en", **kw).text


def consent(ctx: fe.Ctx, group: str, evaluee: str | None = None, frozen: bool = False, locale: str = "en"):  # noqa: ANN201
    return chat.consent_screen(ctx.campaign, locale, group, evaluee, frozen=frozen)


# --- links ---------------------------------------------------------------------------------
def test_a_group_link_enrols_unconsented_and_shows_the_consent_screen(ctx):
    s = fe.step(ctx, None, fe.GroupLink("public"))
    assert s.outcome.messages == [consent(ctx, "public")]
    assert s.effects == (fe.Enrol("public"), fe.SetCurrentCampaign("test-campaign"))


@pytest.mark.parametrize("event", [fe.GroupLink("public"), fe.Code("staff", "u1"), fe.ServiceLink("water")])
def test_a_closed_campaign_shows_its_notice_and_enrols_nobody(ctx, event):
    s = fe.step(replace(ctx, phase="closed", phase_notice=CLOSED), None, event)
    assert s.outcome.messages == [CLOSED]
    assert s.effects == ()


def test_an_upcoming_campaign_enrols(ctx):
    s = fe.step(replace(ctx, phase="upcoming", phase_notice=UPCOMING), None, fe.GroupLink("public"))
    assert fe.Enrol("public") in s.effects
    assert s.outcome.messages == [consent(ctx, "public")]


def test_a_codes_only_group_refuses_its_plain_link(ctx):
    s = fe.step(ctx, None, fe.GroupLink("staff", "u1"))
    assert texts(s) == [say("enrol.codes_only", group="所在单位")]
    assert s.effects == ()


def test_a_codes_only_group_link_resumes_a_member_of_that_group(ctx):
    s = fe.step(replace(ctx, member=member(group_key="staff", unit="u1", consented=False)), None,
                fe.GroupLink("staff", "u1"))
    assert s.outcome.messages == [consent(ctx, "staff")]
    assert s.effects == (fe.SetCurrentCampaign("test-campaign"),)


def test_a_code_is_redeemed_first_then_enrols(ctx):
    s = fe.step(ctx, None, fe.Code("staff", "u1", "tok"))
    assert s.effects == (RedeemCode("tok"), fe.Enrol("staff", "u1"), fe.SetCurrentCampaign("test-campaign"))
    assert s.outcome.messages == [consent(ctx, "staff")]


def test_a_used_code_is_refused(ctx):
    s = fe.step(replace(ctx, code_redeemable=False), None, fe.Code("staff", "u1"))
    assert texts(s) == [say("enrol.code_used")]
    assert s.effects == ()


def test_a_used_code_does_not_matter_to_its_own_member(ctx):
    """Re-opening one's own (used) code resumes the membership."""
    s = fe.step(replace(ctx, code_redeemable=False, member=member(group_key="staff", unit="u1", consented=False)),
                None, fe.Code("staff", "u1"))
    assert s.effects == (fe.SetCurrentCampaign("test-campaign"),)


@pytest.mark.parametrize("event", [fe.GroupLink("public"), fe.Code("staff", "u1"), fe.ServiceLink("water")])
def test_already_enrolled_in_another_group(ctx, event):
    s = fe.step(replace(ctx, member=member(group_key="recipients" if event != fe.ServiceLink("water") else "public")),
                None, event)
    label = "服务对象" if event != fe.ServiceLink("water") else "社会群众、网络"
    assert texts(s) == [say("chat.already_enrolled", group=label)]
    assert s.effects == ()


def test_opening_a_link_after_opting_out_rejoins_with_consent_again(ctx):
    s = fe.step(replace(ctx, member=member(status=fe.OPTED_OUT, drawn_round=1)), None, fe.GroupLink("recipients"))
    assert s.effects == (fe.Rejoin(fe.DRAWN), fe.SetCurrentCampaign("test-campaign"))
    assert s.outcome.messages == [consent(ctx, "recipients")]
    s = fe.step(replace(ctx, member=member(status=fe.OPTED_OUT)), None, fe.GroupLink("recipients"))
    assert s.effects[0] == fe.Rejoin(fe.ENROLLED)


def test_the_consent_screen_says_when_the_pool_is_frozen_without_them(ctx):
    frozen = replace(ctx, draw=fe.Draw(committed=True))
    assert fe.step(frozen, None, fe.GroupLink("recipients")).outcome.messages == [consent(ctx, "recipients", frozen=True)]
    # in the pool already (an opted-out member coming back), or an open group: not frozen
    back = replace(frozen, member=member(status=fe.OPTED_OUT), draw=fe.Draw(committed=True, in_pool=True))
    assert fe.step(back, None, fe.GroupLink("recipients")).outcome.messages == [consent(ctx, "recipients")]
    assert fe.step(frozen, None, fe.GroupLink("public")).outcome.messages == [consent(ctx, "public")]


def test_a_consented_member_of_an_open_group_begins_and_is_marked_invited(ctx):
    s = fe.step(replace(ctx, member=member(group_key="public")), None, fe.GroupLink("public"))
    assert s.outcome.messages == []
    assert s.effects == (fe.SetCurrentCampaign("test-campaign"), fe.MarkInvited(NOW), fe.BeginQuestionnaire())
    invited = member(group_key="public", invited_at=NOW - timedelta(days=1))
    s = fe.step(replace(ctx, member=invited), None, fe.GroupLink("public"))
    assert s.effects == (fe.SetCurrentCampaign("test-campaign"), fe.BeginQuestionnaire())


def test_an_upcoming_campaign_tells_a_consented_member_when_it_opens(ctx):
    s = fe.step(replace(ctx, phase="upcoming", phase_notice=UPCOMING, member=member(group_key="public")), None,
                fe.GroupLink("public"))
    assert s.outcome.messages == [UPCOMING]
    assert fe.BeginQuestionnaire() not in s.effects


# --- the draw -------------------------------------------------------------------------------
@pytest.mark.parametrize("draw, key", [
    (fe.Draw(), "enrol.pooled"),
    (fe.Draw(committed=True), "enrol.pool_frozen"),
    (fe.Draw(committed=True, in_pool=True), "enrol.wait_draw"),
    (fe.Draw(committed=True, revealed=True, in_pool=True), "enrol.not_drawn"),
])
def test_a_sampled_group_not_drawn_hears_where_it_stands_and_nothing_begins(ctx, draw, key):
    c = replace(ctx, member=member(), draw=draw)
    expected = say(key, group="服务对象")
    assert texts(fe.step(c, None, fe.GroupLink("recipients"))) == [expected]
    assert fe.step(c, None, fe.GroupLink("recipients")).effects == (fe.SetCurrentCampaign("test-campaign"),)
    start = fe.step(c, None, fe.Start())
    assert texts(start) == [expected] and start.effects == ()
    assert fe.gate(c).messages[0].text == expected
    assert fe.gate(c, tap=True).toast == expected and fe.gate(c, tap=True).messages == []


def test_the_drawn_begin_without_being_marked_invited(ctx):
    """The invitation marked them; reminders count from it."""
    s = fe.step(replace(ctx, member=member(drawn_round=1)), None, fe.Start())
    assert s.effects == (fe.BeginQuestionnaire(),)
    assert fe.gate(replace(ctx, member=member(drawn_round=1))) is None


def test_the_gate_asks_for_consent_first(ctx):
    c = replace(ctx, member=member(consented=False, drawn_round=1))
    assert fe.gate(c).messages == [consent(ctx, "recipients")]
    assert fe.gate(c, tap=True).messages == [consent(ctx, "recipients")]
    assert fe.gate(replace(ctx, member=member(group_key="public"))) is None


def test_after_service_raters_are_never_drawn(ctx):
    m = member(only_evaluee="water")
    assert not fe.draw_matters(ctx.campaign, m)
    assert fe.gate(replace(ctx, member=m)) is None


# --- after-service links ----------------------------------------------------------------------
def test_an_after_service_link_enrols_for_one_evaluee(ctx):
    s = fe.step(ctx, None, fe.ServiceLink("water"))
    assert s.effects == (fe.Enrol("recipients", None, "water"), fe.SetCurrentCampaign("test-campaign"))
    assert s.outcome.messages == [consent(ctx, "recipients", "water")]


def test_after_service_consent_begins_at_once(ctx):
    c = replace(ctx, member=member(consented=False, only_evaluee="water"))
    s = fe.step(c, None, fe.ConsentYes())
    assert s.effects == (fe.Consent(), fe.MarkInvited(NOW), fe.BeginQuestionnaire())


def test_after_service_cooldown_then_next_visit(ctx):
    done = member(only_evaluee="water", submitted=True, invited_at=NOW - timedelta(hours=3), visits=1)
    s = fe.step(replace(ctx, member=done), None, fe.ServiceLink("transport"))
    assert texts(s) == [say("enrol.service_cooldown", hours="24", after="2026-12-06 15:00")]  # 07:00 UTC in Asia/Shanghai
    assert s.effects == ()
    later = replace(ctx, now=NOW + timedelta(hours=21, minutes=1), member=done)
    s = fe.step(later, None, fe.ServiceLink("transport"))
    assert s.outcome.messages == []
    assert s.effects == (fe.NextVisit("transport", later.now), fe.SetCurrentCampaign("test-campaign"),
                         fe.BeginQuestionnaire())


def test_next_visit_reads_a_naive_time_as_utc_and_respects_the_phase(ctx):
    done = member(only_evaluee="water", submitted=True, enrolled_at=(NOW - timedelta(days=2)).replace(tzinfo=None))
    s = fe.step(replace(ctx, member=done, phase="upcoming", phase_notice=UPCOMING), None, fe.ServiceLink("water"))
    assert s.outcome.messages == [UPCOMING] and s.effects == ()


# --- taps --------------------------------------------------------------------------------------
@pytest.mark.parametrize("event", [fe.ConsentYes(), fe.ConsentNo(), fe.Start(), fe.Language("en")])
def test_taps_without_a_live_membership_are_stale(ctx, event):
    stale = t("chat.stale", "en")
    for c in (ctx, replace(ctx, member=member(status=fe.OPTED_OUT))):
        s = fe.step(c, None, event)
        assert s.outcome.toast == stale and s.outcome.messages == [] and s.effects == ()


def test_consent_twice_is_a_toast_and_changes_nothing(ctx):
    s = fe.step(replace(ctx, member=member(group_key="public")), None, fe.ConsentYes())
    assert s.outcome.toast == t("chat.stale", "en")
    assert s.effects == ()


def test_consent_in_a_closed_campaign_shows_the_notice(ctx):
    s = fe.step(replace(ctx, phase="closed", phase_notice=CLOSED, member=member(consented=False)), None,
                fe.ConsentYes())
    assert s.outcome.messages == [CLOSED] and s.effects == ()


def test_consent_in_a_sampled_group_pools_them(ctx):
    s = fe.step(replace(ctx, member=member(consented=False)), None, fe.ConsentYes())
    assert texts(s) == [say("enrol.pooled", group="服务对象")]
    assert s.effects == (fe.Consent(),)


@pytest.mark.parametrize("m, draw, kept", [
    (member(group_key="public", consented=False), fe.Draw(), False),
    (member(consented=False), fe.Draw(committed=True), False),
    (member(group_key="staff", unit="u1", consented=False), fe.Draw(), True),  # the code stays theirs
    (member(consented=False, drawn_round=1), fe.Draw(committed=True, in_pool=True), True),
    (member(consented=False), fe.Draw(committed=True, in_pool=True), True),  # a frozen pool stays intact
])
def test_declining_forgets_or_opts_out(ctx, m, draw, kept):
    s = fe.step(replace(ctx, member=m, draw=draw), None, fe.ConsentNo())
    assert texts(s) == [say("enrol.declined")]
    assert s.effects == (fe.SetCurrentCampaign(None), fe.OptOut() if kept else fe.Forget())


def test_declining_after_consent_is_stale(ctx):
    s = fe.step(replace(ctx, member=member(group_key="public")), None, fe.ConsentNo())
    assert s.outcome.toast == t("chat.stale", "en") and s.effects == ()


def test_the_language_of_the_consent_card(ctx):
    c = replace(ctx, member=member(consented=False))
    s = fe.step(c, None, fe.Language("zh"))
    assert s.outcome.messages == [consent(ctx, "recipients", locale="zh")]
    assert s.effects == (fe.SetLocale("zh"),)
    s = fe.step(replace(ctx, member=member()), None, fe.Language("zh"))
    assert s.outcome.messages == [chat.say("chat.lang_set", "zh")] and s.effects == (fe.SetLocale("zh"),)
    s = fe.step(c, None, fe.Language("fr"))
    assert s.outcome.toast == t("chat.stale", "en") and s.effects == ()


def test_start_after_submitting_says_done(ctx):
    s = fe.step(replace(ctx, member=member(group_key="public", submitted=True)), None, fe.Start())
    assert texts(s) == [say("chat.done")] and s.effects == ()


def test_start_before_consent_is_stale(ctx):
    s = fe.step(replace(ctx, member=member(consented=False)), None, fe.Start())
    assert s.outcome.toast == t("chat.stale", "en") and s.effects == ()


# --- /stop ---------------------------------------------------------------------------------------
def test_stop_opts_out_discards_the_draft_and_cancels_prompts(ctx):
    s = fe.step(replace(ctx, member=member(submitted=True)), None, fe.Stop())
    assert texts(s) == [say("chat.stopped")]
    assert s.effects == (fe.OptOut(), fe.DiscardDraft(), fe.CancelPrompts())


def test_stop_without_a_membership_is_help(ctx):
    s = fe.step(replace(ctx, campaign=None), None, fe.Stop())
    assert texts(s) == [say("chat.help")] and s.effects == ()


def test_the_step_writes_nothing_itself(ctx):
    """Every effect is plain, frozen data."""
    s = fe.step(ctx, None, fe.Code("staff", "u1"))
    for e in s.effects:
        with pytest.raises(AttributeError):
            e.x = 1  # type: ignore[attr-defined]
