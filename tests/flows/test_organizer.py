"""Organizer commands as pure steps: who gets an answer, which campaigns a command is
about, what is asked to be done (a digest request, a bound organizer, a used code)."""

from __future__ import annotations

from dataclasses import replace

from flows import organizer as org
from flows.codes import RedeemCode


def ctx(campaigns, mine=(), locale="zh", existing=None, reports=None) -> org.Ctx:
    return org.Ctx(locale=locale, chat_id=777, existing=frozenset(existing or [c.id for c in campaigns]),
                   mine=tuple(mine), reports=reports or {})


def texts(step) -> list[str]:
    return [m.text for m in step.outcome.messages]


def test_a_non_organizer_is_told_not_available_and_nothing_is_asked(small_campaign):
    for event in (org.Digest(), org.Status(), org.Digest("test-campaign"), org.Digest("nope")):
        step = org.step(ctx([small_campaign]), None, event)
        assert texts(step) == ["此功能仅对评议组织者开放。"] and step.effects == () and step.state is None


def test_not_available_reveals_no_campaign_names(small_campaign):
    # someone who organizes nothing and mistypes: no listing, no "no such campaign"
    assert texts(org.step(ctx([small_campaign]), None, org.Status("tset-campaign"))) == ["此功能仅对评议组织者开放。"]


def test_a_mistyped_id_is_named_and_the_organizers_campaigns_listed(small_campaign):
    step = org.step(ctx([small_campaign], mine=[small_campaign]), None, org.Digest("tset-campaign"))
    assert texts(step) == ["没有名为「tset-campaign」的评议活动（请检查拼写）。您组织的评议活动：test-campaign"]
    assert step.effects == ()


def test_an_existing_campaign_one_does_not_organize_is_not_available(small_campaign):
    step = org.step(ctx([small_campaign], mine=[small_campaign], existing=["test-campaign", "other"]), None,
                    org.Status("other"))
    assert texts(step) == ["此功能仅对评议组织者开放。"]


def test_digest_asks_for_one_request_per_campaign_in_the_campaigns_language(small_campaign, campaign_factory):
    zh_only = campaign_factory([{"key": "a", "name": {"zh": "甲"}, "category": "gov"}], id="zh-only",
                               locales=["zh"], title={"zh": "只有中文"})
    c = ctx([small_campaign, zh_only], mine=[small_campaign, zh_only], locale="en")
    step = org.step(c, None, org.Digest())
    assert step.effects == (org.RequestDigest("test-campaign", 777, "en"), org.RequestDigest("zh-only", 777, "zh"))
    assert texts(step) == ["The digest of “Test review” is being prepared; it follows shortly.",
                           "The digest of “只有中文” is being prepared; it follows shortly."]
    only = org.step(c, None, org.Digest("zh-only  extra words"))
    assert only.effects == (org.RequestDigest("zh-only", 777, "zh"),)


def test_status_and_board_show_the_reports_read_for_the_named_campaigns(small_campaign):
    c = ctx([small_campaign], mine=[small_campaign], reports={"test-campaign": ("<b>one</b>", "two")})
    for event in (org.Status(), org.Board(), org.Status("test-campaign")):
        step = org.step(c, None, event)
        assert texts(step) == ["<b>one</b>", "two"] and step.effects == ()
    assert [x.id for x in org.chosen(c.mine, "")] == ["test-campaign"]
    assert org.chosen(c.mine, "other") == []


def test_board_refusal_uses_its_own_text(small_campaign):
    assert texts(org.step(ctx([small_campaign]), None, org.Board())) == ["此功能仅对评议组织者开放。"]


def code_ctx(campaign, organizer=False, used=False, locale="zh") -> org.CodeCtx:
    return org.CodeCtx(locale=locale, chat_id=777, campaign=campaign, organizer=organizer, used=used)


def test_an_organizer_code_binds_and_is_used_up(small_campaign):
    step = org.step(code_ctx(small_campaign), None, org.Code("tok"))
    assert step.effects == (RedeemCode("tok"), org.BindOrganizer("test-campaign", 777))
    assert "您已成为「测试评议」的组织者" in texts(step)[0]


def test_an_organizer_already_keeps_the_code_unused(small_campaign):
    step = org.step(code_ctx(small_campaign, organizer=True, used=True), None, org.Code("tok"))
    assert texts(step) == ["您已经是「测试评议」的组织者。"] and step.effects == ()


def test_a_used_code_binds_nothing(small_campaign):
    step = org.step(code_ctx(small_campaign, used=True, locale="en"), None, org.Code("tok"))
    assert "has been used already" in texts(step)[0] and step.effects == ()


def test_a_person_on_another_channel_cannot_become_an_organizer(small_campaign):
    # Digests go to organizers' Telegram chats: a code redeemed elsewhere binds nothing.
    step = org.step(replace(code_ctx(small_campaign), can_organize=False), None, org.Code("tok"))
    assert texts(step) == ["此功能仅对评议组织者开放。"] and step.effects == ()
