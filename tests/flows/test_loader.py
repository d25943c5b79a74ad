"""The campaign file loader: what an organizer sees when a file is wrong, and what a
correct file turns into."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from flows.loader import CampaignFileError, Problem, load_campaign, parse_campaign

# A small valid campaign. Tests mutate it by replacing exact snippets.
VALID = """\
id: test-2026
title: {zh: 测试评议, en: Test review}
timezone: Asia/Shanghai
locales: [zh, en]
opens: 2026-12-01T09:00
closes: 2026-12-20T18:00
scale:
  - {key: satisfied, label: {zh: 满意, en: Satisfied}, points: 100, satisfied: true}
  - {key: fairly, label: {zh: 比较满意, en: Fairly satisfied}, points: 80, satisfied: true}
  - {key: basically, label: {zh: 基本满意, en: Basically satisfied}, points: 60}
  - {key: dissatisfied, label: {zh: 不满意, en: Dissatisfied}, points: 0}
dimensions:
  - {key: style, label: {zh: 工作作风, en: Work style}}
  - {key: lawful, label: {zh: 依法行政, en: Law-based administration}}
categories:
  - {key: gov, label: {zh: 政府部门, en: Government departments}}
evaluees:
  - key: transport
    name: {zh: 交通局, en: Transport Bureau}
    category: gov
  - key: water
    name: {zh: 水利局, en: Water Bureau}
    category: gov
rater_groups:
  - key: recipients
    label: {zh: 服务对象, en: Service recipients}
    weight: 35
    sample: 400
  - key: staff
    label: {zh: 所在单位, en: Own unit}
    weight: 15
    sample: 60
    rates: own_unit
  - key: public
    label: {zh: 社会群众, en: Public}
    weight: 30
    open: true
schedule:
  digest_cron: "0 18 * * *"
organizers: [123456789]
"""

FILE = "county-2026.yaml"


def mutate(old: str, new: str, text: str = VALID) -> str:
    assert text.count(old) == 1, f"snippet {old!r} must occur exactly once"
    return text.replace(old, new)


def line_of(text: str, snippet: str, nth: int = 1) -> int:
    """1-based line of the nth line containing ``snippet``."""
    hits = [i for i, ln in enumerate(text.splitlines(), start=1) if snippet in ln]
    return hits[nth - 1]


def problems_of(text: str) -> list[Problem]:
    with pytest.raises(CampaignFileError) as info:
        parse_campaign(text, FILE)
    assert info.value.filename == FILE
    return info.value.problems


def only_problem(text: str) -> tuple[Problem, str]:
    with pytest.raises(CampaignFileError) as info:
        parse_campaign(text, FILE)
    assert len(info.value.problems) == 1, str(info.value)
    return info.value.problems[0], str(info.value)


def test_valid_minimal_campaign_loads():
    c = parse_campaign(VALID, FILE)
    assert c.id == "test-2026"
    assert [e.key for e in c.evaluees] == ["transport", "water"]
    assert c.organizers == [123456789]


# --- cross-field errors -----------------------------------------------------------------


def test_unknown_category_names_evaluee_line_and_defined_categories():
    text = mutate("    name: {zh: 水利局, en: Water Bureau}\n    category: gov",
                  "    name: {zh: 水利局, en: Water Bureau}\n    category: govt")
    p, msg = only_problem(text)
    assert p.line == line_of(text, "category: govt")
    assert p.field == "evaluees[2].category"
    assert msg == (
        f"{FILE}, line {p.line}, evaluees[2].category: evaluee 'water' is in category "
        "'govt', which is not defined under categories (defined: gov); did you mean 'gov'?"
    )


@pytest.mark.parametrize(
    ("old", "new", "field", "what"),
    [
        ("  - key: water\n", "  - key: transport\n", "evaluees[2].key", "evaluee key 'transport'"),
        ("{key: lawful,", "{key: style,", "dimensions[2].key", "dimension key 'style'"),
        ("{key: fairly,", "{key: satisfied,", "scale[2].key", "scale option key 'satisfied'"),
        ("  - key: public\n", "  - key: staff\n", "rater_groups[3].key", "rater group key 'staff'"),
        (
            "categories:\n  - {key: gov, label: {zh: 政府部门, en: Government departments}}\n",
            "categories:\n  - {key: gov, label: {zh: 政府部门, en: Government departments}}\n"
            "  - {key: gov, label: 又一个}\n",
            "categories[2].key",
            "category key 'gov'",
        ),
    ],
)
def test_duplicate_keys_are_reported_at_second_use_with_first_line(old, new, field, what):
    text = mutate(old, new)
    p, _ = only_problem(text)
    assert p.field == field
    assert what in p.message and "used twice" in p.message
    key = what.split("'")[1]
    first_line = line_of(text, f"key: {key}")
    assert f"first at line {first_line}" in p.message
    assert p.line == line_of(text, f"key: {key}", nth=2)


def test_duplicate_yaml_mapping_key_is_reported_with_its_line_and_path():
    text = mutate("    weight: 15\n", "    weight: 15\n    weight: 20\n")
    text = mutate('digest_cron: "0 18 * * *"', 'digest_cron: "0 18 * *"', text)
    with pytest.raises(CampaignFileError) as info:
        parse_campaign(text, FILE)
    dup, cron = info.value.problems  # the rest of the file is still checked
    assert (dup.line, dup.field) == (line_of(text, "weight: 20"), "rater_groups[2].weight")
    assert dup.message == (
        "key 'weight' appears twice in this mapping "
        f"(first at line {line_of(text, 'weight: 15')}); each key may be given once"
    )
    assert cron.field == "schedule.digest_cron"


def test_own_unit_group_needs_a_unit_for_every_person():
    text = mutate(
        "  - key: water\n    name: {zh: 水利局, en: Water Bureau}\n    category: gov\n",
        "  - key: zhang\n    kind: person\n    name: 张某某\n    category: gov\n",
    )
    p, _ = only_problem(text)
    assert p.field == "evaluees[2].unit"
    assert p.line == line_of(text, "key: zhang")
    assert "evaluee 'zhang' is a person without a unit" in p.message
    assert "rater group 'staff'" in p.message and "own_unit" in p.message


def test_person_with_unit_is_fine_and_no_own_unit_group_needs_no_unit():
    with_unit = mutate(
        "  - key: water\n    name: {zh: 水利局, en: Water Bureau}\n    category: gov\n",
        "  - key: zhang\n    kind: person\n    unit: transport\n    name: 张某某\n"
        "    category: gov\n",
    )
    assert parse_campaign(with_unit).evaluee("zhang").own_unit == "transport"
    no_unit_no_group = mutate("    rates: own_unit\n", "", mutate(
        "  - key: water\n    name: {zh: 水利局, en: Water Bureau}\n    category: gov\n",
        "  - key: zhang\n    kind: person\n    name: 张某某\n    category: gov\n",
    ))
    assert parse_campaign(no_unit_no_group).evaluee("zhang").own_unit is None


def test_scale_without_satisfied_option():
    text = VALID.replace(", satisfied: true}", "}")
    p, _ = only_problem(text)
    assert p.field == "scale"
    assert p.line == line_of(text, "scale:")
    assert "no scale option is marked 'satisfied: true'" in p.message


@pytest.mark.parametrize("closes", ["2026-11-30T09:00", "2026-12-01T09:00"])
def test_closes_not_after_opens(closes):
    text = mutate("closes: 2026-12-20T18:00", f"closes: {closes}")
    p, _ = only_problem(text)
    assert (p.line, p.field) == (6, "closes")
    assert p.message == (
        f"closes ({closes.replace('T', ' ')}) must be later than opens (2026-12-01 09:00)"
    )


def test_invalid_cron_reaches_the_user_with_line_and_field():
    text = mutate('digest_cron: "0 18 * * *"', 'digest_cron: "every day at 6"')
    p, msg = only_problem(text)
    assert p.field == "schedule.digest_cron"
    assert p.line == line_of(text, "digest_cron")
    assert "'every day at 6' is not a cron expression: it needs 5 fields" in p.message
    assert "Value error" not in msg


def test_cron_with_five_fields_but_nonsense_values():
    text = mutate('digest_cron: "0 18 * * *"', 'digest_cron: "0 25 * * *"')
    p, _ = only_problem(text)
    assert p.field == "schedule.digest_cron"
    assert "not a valid cron expression" in p.message


def test_negative_weight():
    text = mutate("    weight: 15\n", "    weight: -15\n")
    p, _ = only_problem(text)
    assert (p.line, p.field) == (line_of(text, "weight: -15"), "rater_groups[2].weight")
    assert p.message == "must be at least 0 (got -15)"


def test_weights_adding_up_to_zero():
    text = VALID.replace("weight: 35", "weight: 0").replace("weight: 15", "weight: 0")
    text = text.replace("weight: 30", "weight: 0")
    p, _ = only_problem(text)
    assert (p.line, p.field) == (line_of(text, "rater_groups:"), "rater_groups")
    assert "weights add up to 0" in p.message


def test_text_in_a_locale_not_declared():
    text = mutate("{zh: 交通局, en: Transport Bureau}", "{zh: 交通局, en: Transport Bureau, fr: Bureau des transports}")
    p, _ = only_problem(text)
    assert p.field == "evaluees[1].name.fr"
    assert p.line == line_of(text, "Bureau des transports")
    assert "locale 'fr' is not one of the campaign's locales (zh, en)" in p.message


def test_text_missing_the_fallback_locale_is_an_error():
    text = mutate("label: {zh: 社会群众, en: Public}", "label: {en: Public}")
    p, _ = only_problem(text)
    assert p.field == "rater_groups[3].label"
    assert p.line == line_of(text, "label: {en: Public}")
    assert "has no 'zh' text" in p.message and "must always be given" in p.message


def test_open_group_with_a_sample_is_a_contradiction():
    text = mutate("    open: true\n", "    open: true\n    sample: 50\n")
    p, _ = only_problem(text)
    assert (p.line, p.field) == (line_of(text, "sample: 50"), "rater_groups[3].sample")
    assert "rater group 'public' is open" in p.message and "remove 'sample'" in p.message


def test_drawn_group_needs_a_sample():
    text = mutate("    weight: 35\n    sample: 400\n", "    weight: 35\n")
    p, _ = only_problem(text)
    assert p.field == "rater_groups[1].sample"
    assert p.line == line_of(text, "key: recipients")
    assert "rater group 'recipients' is drawn at random, so it needs 'sample:'" in p.message


@pytest.mark.parametrize("bad", ['"@zhang"', '"123456789"', "12.5", "true"])
def test_organizers_must_be_integer_chat_ids(bad):
    text = mutate("organizers: [123456789]", f"organizers:\n  - 42\n  - {bad}")
    p, _ = only_problem(text)
    assert (p.line, p.field) == (line_of(text, f"  - {bad}"), "organizers[2]")
    assert "must be a Telegram chat id, a whole number" in p.message


# --- pydantic's errors in plain words ------------------------------------------------------


def test_unknown_key_lists_allowed_keys_and_suggests():
    text = mutate("    weight: 15\n", "    wieght: 15\n")
    problems = problems_of(text)
    unknown = next(p for p in problems if "wieght" in p.message)
    assert unknown.field == "rater_groups[2].wieght"
    assert unknown.line == line_of(text, "wieght")
    assert unknown.message == (
        "unknown key 'wieght' (allowed here: key, label, weight, sample, rates, open, enrol_by); "
        "did you mean 'weight'?"
    )
    # and the weight is then missing, on the group's line
    missing = next(p for p in problems if p.field == "rater_groups[2].weight")
    assert missing.line == line_of(text, "key: staff")
    assert missing.message.startswith("missing required field 'weight'")


def test_unknown_top_level_key_suggests_allowed_keys():
    text = mutate("evaluees:\n", "evaluess:\n")
    problems = problems_of(text)
    unknown = next(p for p in problems if p.field == "evaluess")
    assert unknown.line == line_of(text, "evaluess:")
    assert "unknown key 'evaluess' (allowed here: id, title, timezone, locales" in unknown.message
    assert "rater_groups" in unknown.message
    assert unknown.message.endswith("did you mean 'evaluees'?")
    missing = next(p for p in problems if p.field == "evaluees")
    assert "missing required field 'evaluees'" in missing.message


def test_missing_required_top_level_field():
    text = mutate("closes: 2026-12-20T18:00\n", "")
    p, msg = only_problem(text)
    assert p.field == "closes"
    assert p.line == 1
    assert "missing required field 'closes'" in msg


def test_number_and_date_messages():
    text = mutate("points: 60}", "points: sixty}")
    text = mutate("opens: 2026-12-01T09:00", "opens: first of December", text)
    problems = {p.field: p for p in problems_of(text)}
    assert problems["scale[3].points"].message == "must be a number (got 'sixty')"
    assert problems["scale[3].points"].line == line_of(text, "sixty")
    assert problems["opens"].message.startswith("must be a date and time such as 2026-12-01T09:00")
    assert problems["opens"].line == 5


def test_impossible_date_names_line_and_field():
    text = mutate("opens: 2026-12-01T09:00", "opens: 2026-02-30")
    p, _ = only_problem(text)
    assert (p.line, p.field) == (5, "opens")
    assert p.message == "cannot read the value '2026-02-30' (day is out of range for month)"


def test_text_of_the_wrong_shape():
    text = mutate("title: {zh: 测试评议, en: Test review}", "title: [测试评议]")
    p, _ = only_problem(text)
    assert (p.line, p.field) == (2, "title")
    assert p.message.startswith("must be a text: a string, or a mapping of locale to string")


def test_bad_key_and_bad_kind():
    text = mutate("  - key: water\n", "  - key: water bureau\n")
    text = mutate("    category: gov\n  - key", "    category: gov\n    kind: persn\n  - key", text)
    problems = {p.field: p for p in problems_of(text)}
    assert "'water bureau' is not a valid key" in problems["evaluees[2].key"].message
    assert problems["evaluees[1].kind"].message == "must be 'unit' or 'person' (got 'persn')"
    assert problems["evaluees[1].kind"].line == line_of(text, "kind: persn")


def test_all_problems_are_reported_together_in_line_order():
    text = mutate("    category: gov\n  - key: water", "    category: govt\n  - key: water")
    text = mutate("    weight: 15\n", "    weight: -1\n", text)
    text = mutate('digest_cron: "0 18 * * *"', 'digest_cron: "daily"', text)
    with pytest.raises(CampaignFileError) as info:
        parse_campaign(text, FILE)
    err = info.value
    assert [p.field for p in err.problems] == [
        "evaluees[1].category",
        "rater_groups[2].weight",
        "schedule.digest_cron",
    ]
    lines = str(err).splitlines()
    assert len(lines) == 3
    expected = [
        (line_of(text, "category: govt"), "evaluees[1].category"),
        (line_of(text, "weight: -1"), "rater_groups[2].weight"),
        (line_of(text, "digest_cron"), "schedule.digest_cron"),
    ]
    for line, (n, field) in zip(lines, expected, strict=True):
        assert line.startswith(f"{FILE}, line {n}, {field}: ")


# --- the file itself ---------------------------------------------------------------------


def test_yaml_syntax_error_names_the_line():
    text = mutate("    category: gov\n  - key: water", "    category: gov\n  - key: water: bureau")
    p, msg = only_problem(text)
    assert p.line == line_of(text, "water: bureau")
    assert "YAML syntax error: mapping values are not allowed here" in msg


def test_tab_indentation_is_explained():
    text = mutate("    weight: 35\n", "\tweight: 35\n")
    p, msg = only_problem(text)
    assert p.line == line_of(text, "\tweight")
    assert "YAML syntax error" in msg and "spaces, not tabs" in msg


@pytest.mark.parametrize("content", ["", "   \n", "# only a comment\n"])
def test_empty_file(content):
    _, msg = only_problem(content)
    assert "the file is empty" in msg


def test_top_level_list():
    _, msg = only_problem("- id: x\n- title: y\n")
    assert "must be a mapping of keys to values" in msg and "but it is a list" in msg


def test_file_not_found(tmp_path: Path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(CampaignFileError) as info:
        load_campaign(missing)
    assert str(info.value) == f"{missing}: file not found"


def test_file_not_utf8(tmp_path: Path):
    f = tmp_path / "gbk.yaml"
    f.write_bytes(VALID.encode("gbk"))
    with pytest.raises(CampaignFileError) as info:
        load_campaign(f)
    (p,) = info.value.problems
    assert "not UTF-8 text (it looks like GBK/GB18030); save it as UTF-8" in p.message
    assert p.line == 2  # the first non-ASCII byte is in the title


def test_load_campaign_reads_a_file_and_names_it_in_errors(tmp_path: Path):
    good = tmp_path / "good.yaml"
    good.write_text(VALID, encoding="utf-8")
    assert load_campaign(good).id == "test-2026"
    bad = tmp_path / "county-2026.yaml"
    bad.write_text(mutate("    weight: 15\n", "    weight: lots\n"), encoding="utf-8")
    with pytest.raises(CampaignFileError) as info:
        load_campaign(str(bad))
    assert str(info.value) == (
        f"{bad}, line {line_of(bad.read_text(), 'weight: lots')}, rater_groups[2].weight: "
        "must be a number (got 'lots')"
    )


# --- what a valid file means ---------------------------------------------------------------


def test_a_plain_string_serves_every_locale():
    c = parse_campaign(mutate("title: {zh: 测试评议, en: Test review}", "title: 测试评议"))
    assert c.text(c.title, "en") == "测试评议" and c.text(c.title, "zh") == "测试评议"
    assert c.text(c.dimensions[1].label, "en") == "Law-based administration"


def test_every_declared_locale_needs_every_text():
    # An English-speaking rater must not meet Chinese in the middle of the questionnaire.
    text = mutate("{key: lawful, label: {zh: 依法行政, en: Law-based administration}}",
                  "{key: lawful, label: {zh: 依法行政}}")
    p, _ = only_problem(text)
    assert (p.line, p.field) == (line_of(text, "{zh: 依法行政}"), "dimensions[2].label")
    assert "has no 'en' text, but 'en' is one of the campaign's locales" in p.message
    assert "remove 'en' from locales" in p.message


def test_many_missing_translations_are_listed_in_one_problem():
    lines = [ln for ln in VALID.splitlines(keepends=True)]
    text = "".join(lines).replace(", en: Transport Bureau", "").replace(", en: Water Bureau", "")
    for en in ("Satisfied", "Fairly satisfied", "Basically satisfied", "Dissatisfied", "Work style",
               "Law-based administration", "Government departments", "Service recipients", "Own unit", "Public",
               "Test review"):
        text = text.replace(f", en: {en}" + "}", "}")
    p, _ = only_problem(text)
    assert (p.line, p.field) == (line_of(text, "locales:"), "locales")
    assert "'en' is one of the campaign's locales, but 13 texts have no 'en' version" in p.message
    assert "title (line 2)" in p.message and f"evaluees[2].name (line {line_of(text, '水利局')})" in p.message
    # the same file declaring Chinese only is fine
    assert parse_campaign(text.replace("locales: [zh, en]", "locales: [zh]")).locales == ["zh"]


def test_first_locale_decides_which_translation_is_required():
    # With English first, a zh-only text has no fallback text.
    text = mutate("{key: lawful, label: {zh: 依法行政, en: Law-based administration}}",
                  "{key: lawful, label: {zh: 依法行政}}")
    text = mutate("locales: [zh, en]", "locales: [en, zh]", text)
    p, _ = only_problem(text)
    assert (p.line, p.field) == (line_of(text, "{zh: 依法行政}"), "dimensions[2].label")
    assert "has no 'en' text: the first locale (en)" in p.message


def test_weights_must_add_up_to_the_democratic_total():
    text = mutate("    weight: 30\n", "    weight: 40\n")  # 35 + 15 + 40 = 90, not 80
    p, _ = only_problem(text)
    assert (p.line, p.field) == (line_of(text, "rater_groups:"), "rater_groups")
    assert "weights add up to 90 (35 recipients + 15 staff + 40 public)" in p.message
    assert "out of 80 (scoring.democratic_total" in p.message
    # an office scoring out of 90 says so
    c = parse_campaign(text + "scoring: {democratic_total: 90}\n")
    assert c.scoring.democratic_total == 90


def test_dates_in_the_past_or_far_ahead_are_warnings_not_errors():
    from datetime import datetime

    from flows.loader import calendar_warnings

    c = parse_campaign(VALID)  # 2026-12-01 09:00 to 2026-12-20 18:00, Asia/Shanghai
    before = datetime.fromisoformat("2026-11-30T12:00+08:00")
    assert calendar_warnings(c, before) == []
    during = calendar_warnings(c, datetime.fromisoformat("2026-12-05T12:00+08:00"))
    assert len(during) == 1 and "opens 2026-12-01 09:00 (Asia/Shanghai) is in the past" in during[0]
    after = calendar_warnings(c, datetime.fromisoformat("2027-01-05T12:00+08:00"))
    assert len(after) == 1 and "closes 2026-12-20 18:00 (Asia/Shanghai) is in the past" in after[0]
    assert "typo in the year" in after[0]
    far = calendar_warnings(parse_campaign(VALID.replace("2026-12", "2062-12")), before)
    assert len(far) == 1 and "more than a year from now" in far[0]


def test_times_are_in_the_campaign_time_zone():
    c = parse_campaign(VALID)
    assert c.opens.utcoffset() == timedelta(hours=8)
    assert (c.opens.hour, c.opens.minute) == (9, 0)
    assert c.closes.utcoffset() == timedelta(hours=8)
    other = parse_campaign(mutate("timezone: Asia/Shanghai", "timezone: Europe/Berlin"))
    assert other.opens.utcoffset() == timedelta(hours=1)  # December: CET
    assert other.opens.hour == 9


def test_unknown_time_zone():
    p, _ = only_problem(mutate("timezone: Asia/Shanghai", "timezone: Asia/Beijing"))
    assert (p.line, p.field) == (3, "timezone")
    assert "unknown time zone 'Asia/Beijing'" in p.message


def test_own_unit_group_rates_only_the_raters_unit():
    c = parse_campaign(VALID)
    assert [e.key for e in c.evaluees_for("staff", "water")] == ["water"]
    assert [e.key for e in c.evaluees_for("staff", "transport")] == ["transport"]
    assert c.evaluees_for("staff", None) == []
    assert [e.key for e in c.evaluees_for("recipients")] == ["transport", "water"]


@pytest.mark.parametrize("n", range(len(VALID.splitlines())))
def test_any_line_removed_gives_located_messages_not_a_crash(n):
    lines = VALID.splitlines()
    del lines[n]
    text = "\n".join(lines) + "\n"
    try:
        parse_campaign(text, FILE)
    except CampaignFileError as err:
        assert err.problems
        for p in err.problems:
            assert p.message and p.line is not None and 1 <= p.line <= len(lines)
            assert str(p.line) in p.format(FILE) and p.message in str(err)


# --- pre-selection (issue 14) -----------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("false", False), ("30", 30), ("0", 0)])
def test_preselect_option(value, expected):
    c = parse_campaign(VALID.replace("scale:\n", f"preselect: {value}\nscale:\n", 1), FILE)
    assert c.preselect == expected


def test_preselect_default_and_meaning():
    c = parse_campaign(VALID, FILE)
    assert c.preselect == 12
    assert not c.preselects(12) and c.preselects(13)
    on, off, above = (c.model_copy(update={"preselect": v}) for v in (True, False, 3))
    assert on.preselects(2) and not on.preselects(1)
    assert not off.preselects(500)
    assert above.preselects(4) and not above.preselects(3)


@pytest.mark.parametrize("bad", ["-1", "sometimes", "2.5"])
def test_bad_preselect_is_named(bad):
    text = VALID.replace("scale:\n", f"preselect: {bad}\nscale:\n", 1)
    p, _ = only_problem(text)
    assert (p.line, p.field) == (line_of(text, "preselect:"), "preselect")
    assert "must be true, false or a number of evaluees" in p.message


# --- duties and commitments (published on the board: 公开履职承诺) ---------------------------
def test_duties_and_commitments_are_texts_checked_like_every_other():
    good = mutate("    name: {zh: 交通局, en: Transport Bureau}\n",
                  "    name: {zh: 交通局, en: Transport Bureau}\n    duties: {zh: 负责公路, en: Roads}\n"
                  "    commitments: [最多跑一次, {zh: 限时办结, en: On time}]\n")
    e = parse_campaign(good, FILE).evaluee("transport")
    assert e.duties == {"zh": "负责公路", "en": "Roads"} and e.commitments == ["最多跑一次", {"zh": "限时办结", "en": "On time"}]
    problems = {p.field: p for p in problems_of(good.replace("{zh: 限时办结, en: On time}", "{zh: 限时办结, fr: À temps}"))}
    assert "locale 'fr'" in problems["evaluees[1].commitments[2].fr"].message
    assert "has no 'en' text" in problems["evaluees[1].commitments[2]"].message
    assert problems["evaluees[1].commitments[2]"].line == line_of(good, "commitments:")
    p, _ = only_problem(good.replace("commitments: [最多跑一次, {zh: 限时办结, en: On time}]", "commitments: 最多跑一次"))
    assert p.field == "evaluees[1].commitments" and p.line == line_of(good, "commitments:")
    p, _ = only_problem(good.replace("duties: {zh: 负责公路, en: Roads}", "duties: [负责公路]"))
    assert p.field == "evaluees[1].duties" and p.message.startswith("must be a text")


def test_the_organizers_ids_leave_the_published_file_however_written():
    """The kit and a purge keep the campaign file without its organizers: every item of
    organizers: goes, written in decimal, hex or with underscores, and the comments on
    those lines, which may name the person."""
    from flows.loader import without_organizers, parse_campaign

    text = VALID.replace("organizers: [123456789]", "organizers:   # 办公室\n  - 0x75BCD15   # 张三 主任\n  - 4_242\n")
    campaign = parse_campaign(text)
    assert campaign.organizers == [123456789, 4242]
    out = without_organizers(text, campaign.organizers)
    assert "0x75BCD15" not in out and "4_242" not in out and "张三" not in out and "办公室" not in out
    assert out.count('"[removed]"') == 2 and out.replace('"[removed]"', "1").count("\n") == text.count("\n")
    flow = VALID.replace("organizers: [123456789]", "organizers: [0x75BCD15, 4_242]  # 李四")
    assert "李四" not in without_organizers(flow, [123456789, 4242])
