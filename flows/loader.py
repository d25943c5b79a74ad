"""Reading a campaign file (DESIGN.md §4) with errors an organizer can act on.

``load_campaign(path)`` / ``parse_campaign(text)`` read the YAML, validate it with the
model of ``flows.campaign`` and run the cross-field checks. Every problem found is
reported at once, each with the line of the file and the field it concerns::

    county-2026.yaml, line 42, evaluees[2].category: evaluee 'water' is in category
    'govt', which is not defined under categories (defined: gov)

Field paths count list items from 1, as the organizer counts them ("the 2nd
evaluee"); lines count from 1 as in any editor.
"""

from __future__ import annotations

import difflib
import types
import typing
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, TypeAdapter, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import ConstructorError, DuplicateKeyError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

from flows.campaign import INVARIANT, Campaign

__all__ = ["CampaignFileError", "Problem", "calendar_warnings", "load_campaign", "parse_campaign",
           "without_organizers"]

Loc = tuple[str | int, ...]


# --- the error ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a campaign file. ``line`` is 1-based; ``field`` a path such as
    ``rater_groups[2].weight`` (list items counted from 1), empty for the file as a whole."""

    line: int | None
    field: str
    message: str

    def format(self, filename: str) -> str:
        where = filename
        if self.line is not None:
            where += f", line {self.line}"
        if self.field:
            where += f", {self.field}"
        return f"{where}: {self.message}"


class CampaignFileError(Exception):
    """A campaign file that cannot be used; ``problems`` lists everything wrong with it."""

    def __init__(self, filename: str, problems: list[Problem]):
        self.filename = filename
        self.problems = list(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(p.format(self.filename) for p in self.problems)


# --- entry points ------------------------------------------------------------------------


def load_campaign(path: str | Path) -> Campaign:
    """Read and validate the campaign file at ``path``; raise ``CampaignFileError``."""
    filename = str(path)
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise CampaignFileError(filename, [Problem(None, "", "file not found")]) from None
    except IsADirectoryError:
        raise CampaignFileError(
            filename, [Problem(None, "", "is a directory, not a campaign file")]
        ) from None
    except OSError as e:
        raise CampaignFileError(
            filename, [Problem(None, "", f"cannot be read ({e.strerror or e})")]
        ) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        guess = ""
        try:
            data.decode("gb18030")
            guess = " (it looks like GBK/GB18030)"
        except UnicodeDecodeError:
            pass
        raise CampaignFileError(
            filename,
            [
                Problem(
                    line,
                    "",
                    f"the file is not UTF-8 text{guess}; save it as UTF-8 "
                    "(in most editors: 'Save as' → encoding UTF-8)",
                )
            ],
        ) from None
    return parse_campaign(text, filename)


def parse_campaign(text: str, filename: str = "<campaign>") -> Campaign:
    """Validate the campaign described by the YAML ``text``; raise ``CampaignFileError``."""
    root, problems = _read_yaml(text.removeprefix("\ufeff"), filename)
    data = _plain(root)
    where = _Locator(root)

    model: Campaign | None = None
    exc: ValidationError | None = None
    try:
        model = Campaign.model_validate(data)
    except ValidationError as e:
        exc = e
        problems.extend(_pydantic_problems(exc, data, where))
    problems.extend(_consistency(data, where))
    if model is None and not problems:  # an invariant the line-numbered checks missed
        problems.append(_problem(where, (), str(exc.errors(include_url=False)[0]["msg"])))

    if problems or model is None:
        raise CampaignFileError(filename, _tidy(problems))
    return model


# --- YAML --------------------------------------------------------------------------------

_SYNTAX_HINTS = {
    "found character '\\t' that cannot start any token": "YAML indentation must use spaces,"
    " not tabs",
    "that cannot start any token": "a value starting with a character such as '@', '`' or"
    " '%' must be put in quotes",
    "expected <block end>": "check the indentation: the lines of one mapping or list must"
    " start in the same column",
    "mapping values are not allowed here": "a value containing ': ' must be put in quotes,"
    " or the indentation is off",
    "could not find expected ':'": "each line of a mapping needs 'key: value'",
    "did not find expected key": "check the indentation of this line and the one above",
    "did not find expected '-' indicator": "check the indentation of this list item",
    "found unexpected end of stream": "a quote or bracket is not closed",
    "but found '<stream end>'": "a quote or bracket is not closed",
    "while scanning a quoted scalar": "a quote is not closed",
    "while parsing a flow mapping": "a '{' is not closed with '}', or a value containing"
    " ',' or ': ' must be put in quotes",
    "while parsing a flow sequence": "a '[' is not closed with ']', or a value containing"
    " ',' must be put in quotes",
}


def _read_yaml(text: str, filename: str) -> tuple[CommentedMap, list[Problem]]:
    """The file's top-level mapping, and the keys repeated within one mapping."""
    if not text.strip() or all(
        not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()
    ):
        raise CampaignFileError(
            filename,
            [
                Problem(
                    None,
                    "",
                    "the file is empty: it should describe a campaign "
                    "(id, title, opens, closes, scale, dimensions, categories, evaluees, "
                    "rater_groups …)",
                )
            ],
        )
    duplicates: list[Problem] = []
    try:
        try:
            root = _yaml_load(text, allow_duplicate_keys=False)
        except DuplicateKeyError:
            # Report every repeated key with its path, then go on with the rest of the file.
            duplicates = _duplicate_keys(text)
            root = _yaml_load(text, allow_duplicate_keys=True)
    except ConstructorError as e:
        if e.problem and e.problem.startswith(_CANNOT_READ) and e.problem_mark:
            mark = e.problem_mark
            raise CampaignFileError(
                filename, [Problem(mark.line + 1, _path_of_node_at(text, mark), e.problem)]
            ) from None
        raise CampaignFileError(filename, [_syntax_problem(e)]) from None
    except MarkedYAMLError as e:
        raise CampaignFileError(filename, [_syntax_problem(e)]) from None
    except YAMLError as e:
        raise CampaignFileError(filename, [Problem(None, "", f"YAML syntax error: {e}")]) from None

    if root is None:
        raise CampaignFileError(
            filename, [Problem(None, "", "the file is empty: it should describe a campaign")]
        )
    if not isinstance(root, CommentedMap):
        kind = "a list" if isinstance(root, list) else f"the single value {str(root)[:40]!r}"
        raise CampaignFileError(
            filename,
            [
                Problem(
                    1,
                    "",
                    f"the file must be a mapping of keys to values (id: …, title: …, …), "
                    f"but it is {kind}",
                )
            ],
        )
    return root, duplicates


class _Constructor(RoundTripConstructor):
    """Turns a value YAML cannot build (``2026-02-30``, ``!!int x``) into an error that
    carries its line, instead of a bare ValueError."""

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, TypeError, OverflowError, ArithmeticError) as e:
            value = node.value if isinstance(node, ScalarNode) else node.tag
            raise ConstructorError(
                None, None, f"{_CANNOT_READ} '{value}' ({e})", node.start_mark
            ) from None


def _syntax_problem(e: MarkedYAMLError) -> Problem:
    mark = e.problem_mark or e.context_mark
    problem = (e.problem or e.context or "syntax error").strip()
    msg = f"YAML syntax error: {problem}"
    if e.context and e.context_mark and mark and e.context_mark.line != mark.line:
        msg += f" ({e.context.strip()} at line {e.context_mark.line + 1})"
    for needle, hint in _SYNTAX_HINTS.items():
        if needle in problem or (e.context and needle in e.context):
            msg += f" — {hint}"
            break
    return Problem(mark.line + 1 if mark else None, "", msg)


_CANNOT_READ = "cannot read the value"


def _yaml_load(text: str, *, allow_duplicate_keys: bool) -> Any:
    yaml = YAML(typ="rt")
    yaml.Constructor = _Constructor
    yaml.allow_duplicate_keys = allow_duplicate_keys
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. a reused anchor: harmless, not for organizers
        return yaml.load(text)


def _compose(text: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return YAML(typ="rt").compose(text)


def _walk(node: Any, parts: list[str | int], seen: set[int]) -> Iterator[tuple[Any, list]]:
    """Every node of a composed YAML graph with its path (aliases visited once)."""
    if id(node) in seen:
        return
    seen.add(id(node))
    yield node, parts
    if isinstance(node, MappingNode):
        for k, v in node.value:
            if isinstance(k, ScalarNode) and k.value != "<<":
                yield from _walk(v, [*parts, k.value], seen)
    elif isinstance(node, SequenceNode):
        for i, item in enumerate(node.value):
            yield from _walk(item, [*parts, i], seen)


def _duplicate_keys(text: str) -> list[Problem]:
    """Keys given twice in one mapping, found on the composed node graph (which, unlike
    the loader, keeps every occurrence)."""
    out: list[Problem] = []
    for node, parts in _walk(_compose(text), [], set()):
        if not isinstance(node, MappingNode):
            continue
        first: dict[str, int] = {}
        for k, _ in node.value:
            if not isinstance(k, ScalarNode) or k.value == "<<":
                continue
            line = k.start_mark.line + 1
            if k.value in first:
                out.append(
                    Problem(
                        line,
                        _path([*parts, k.value]),
                        f"key '{k.value}' appears twice in this mapping (first at line "
                        f"{first[k.value]}); each key may be given once",
                    )
                )
            else:
                first[k.value] = line
    return out


def _path_of_node_at(text: str, mark: Any) -> str:
    """The field path of the value that starts at ``mark`` (for a value YAML cannot build)."""
    try:
        for node, parts in _walk(_compose(text), [], set()):
            m = node.start_mark
            if (m.line, m.column) == (mark.line, mark.column):
                return _path(parts)
    except YAMLError:
        pass
    return ""


def _plain_key(key: Any) -> Any:
    plain = _plain(key)
    try:
        hash(plain)
    except TypeError:  # a complex key ("? [a, b]"): keep it readable, it is an error anyway
        return str(key)
    return plain


def _plain(node: Any) -> Any:
    """ruamel's round-trip objects → plain dict / list / str / int / float / bool / datetime."""
    if isinstance(node, dict):
        return {_plain_key(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    if isinstance(node, datetime):
        return datetime(
            node.year, node.month, node.day, node.hour, node.minute, node.second,
            node.microsecond, tzinfo=node.tzinfo,
        )  # fmt: skip
    if isinstance(node, date):
        return date(node.year, node.month, node.day)
    return str(node)


# --- where in the file ------------------------------------------------------------------

# The union members of a Text (``str | dict[str, str]``) appear in pydantic's locs.
_TEXT_TAGS = ("str", "dict[str,str]")


class _Locator:
    """Maps a model location (``('evaluees', 1, 'category')``) to a field path and line."""

    def __init__(self, root: CommentedMap):
        self.root = root

    def __call__(self, loc: Loc) -> tuple[str, int | None]:
        node: Any = self.root
        line: int | None = self.root.lc.line + 1
        parts: list[str | int] = []
        lost = False  # left the file's tree: the rest is not in the file
        for el in loc:
            if el in _TEXT_TAGS or el == "[key]":
                continue
            if not lost and isinstance(node, CommentedMap) and el in node:
                line = _key_line(node, el)
                node = node[el]
                parts.append(el if isinstance(el, str) else str(el))  # a key, not an index
                continue
            if not lost and isinstance(node, CommentedSeq) and isinstance(el, int):
                if 0 <= el < len(node):
                    try:
                        line = node.lc.item(el)[0] + 1
                    except (KeyError, TypeError, AttributeError):
                        pass
                    node = node[el]
                    parts.append(el)
                    continue
            lost = True
            parts.append(el)
        return _path(parts), line

    def line(self, loc: Loc) -> int | None:
        return self(loc)[1]


def _key_line(node: CommentedMap, key: Any) -> int | None:
    """1-based line of ``key`` in ``node``; for a key merged in (``<<: *anchor``), its
    line in the anchored mapping."""
    try:
        return node.lc.key(key)[0] + 1
    except (KeyError, TypeError, AttributeError):
        pass
    for source in getattr(node, "merge", None) or []:
        if isinstance(source, tuple):  # ruamel.yaml < 0.19: (position, mapping)
            source = source[-1]
        if isinstance(source, CommentedMap) and key in source:
            return _key_line(source, key)
    return node.lc.line + 1 if node.lc.line is not None else None


def _path(parts: list[str | int]) -> str:
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p + 1}]"
        else:
            out += f".{p}" if out else str(p)
    return out


def _problem(where: _Locator, loc: Loc, message: str) -> Problem:
    field, line = where(loc)
    return Problem(line, field, message)


def _tidy(problems: list[Problem]) -> list[Problem]:
    seen: set[Problem] = set()
    unique = []
    for p in problems:
        if p not in seen:
            seen.add(p)
            unique.append(p)
    return sorted(unique, key=lambda p: p.line if p.line is not None else 0)


# --- pydantic's errors in plain words ----------------------------------------------------

_MISSING_HINTS = {
    "id": "a short name for the campaign, e.g. county-2026",
    "title": "the campaign's name shown to raters",
    "opens": "when the campaign opens, e.g. 2026-12-01T09:00",
    "closes": "when the campaign closes, e.g. 2026-12-20T18:00",
    "scale": "the rating levels, e.g. 满意 / 比较满意 / 基本满意 / 不满意",
    "dimensions": "what is rated, e.g. 工作作风, 依法行政",
    "categories": "the groups of comparable evaluees",
    "evaluees": "who is evaluated",
    "rater_groups": "who rates, with weights and sample sizes",
    "key": "a short identifier: letters, digits, '-' or '_'",
    "weight": "the group's share of the score, e.g. 35",
}


def _pydantic_problems(exc: ValidationError, data: Any, where: _Locator) -> list[Problem]:
    out: list[Problem] = []
    texts: dict[Loc, list[tuple[str, Loc, dict]]] = {}
    for err in exc.errors(include_url=False):
        if err["type"] == INVARIANT:  # _consistency says it, with the line
            continue
        loc = tuple(err["loc"])
        tag_at = next((i for i, el in enumerate(loc) if el in _TEXT_TAGS), None)
        if tag_at is not None:
            texts.setdefault(loc[:tag_at], []).append((str(loc[tag_at]), loc[tag_at + 1 :], err))
            continue
        out.append(_problem(where, loc, _message(err, loc)))

    for prefix, errs in texts.items():
        value = _get(data, prefix)
        deeper = [(rest, e) for tag, rest, e in errs if tag == "dict[str,str]" and rest]
        if isinstance(value, dict) and deeper:
            for rest, e in deeper:
                if "[key]" in rest:
                    msg = f"'{rest[0]}' is not a locale name (use a name such as zh or en)"
                elif e["type"] == "string_type":
                    msg = f"must be the text in that language, got {_show(e.get('input'))}"
                else:
                    msg = _message(e, prefix + rest)
                out.append(_problem(where, prefix + rest, msg))
        else:
            out.append(
                _problem(
                    where,
                    prefix,
                    "must be a text: a string, or a mapping of locale to string such as "
                    f"{{zh: 满意, en: Satisfied}} (got {_show(value)})",
                )
            )
    return out


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    s = str(value)
    if len(s) > 40:
        s = s[:37] + "…"
    return repr(s) if isinstance(value, str) else s


def _message(err: dict, loc: Loc) -> str:
    typ: str = err["type"]
    ctx: dict = err.get("ctx") or {}
    got = err.get("input")

    if typ == "missing":
        hint = _MISSING_HINTS.get(str(loc[-1]) if loc else "")
        return f"missing required field '{loc[-1]}'" + (f" ({hint})" if hint else "")
    if typ == "extra_forbidden":
        key = str(loc[-1])
        allowed = _allowed_keys(loc[:-1])
        msg = f"unknown key '{key}'"
        if allowed:
            msg += f" (allowed here: {', '.join(allowed)})"
            close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
            if close:
                msg += f"; did you mean '{close[0]}'?"
        return msg
    if loc and loc[0] == "organizers" and typ in ("int_type", "int_parsing", "int_from_float"):
        return (
            "must be a Telegram chat id, a whole number such as 123456789 "
            f"(got {_show(got)})"
        )
    if typ in ("int_type", "int_parsing", "int_from_float"):
        return f"must be a whole number (got {_show(got)})"
    if typ in ("float_type", "float_parsing"):
        return f"must be a number (got {_show(got)})"
    if typ in ("bool_type", "bool_parsing"):
        return f"must be true or false (got {_show(got)})"
    if typ in ("string_type",):
        return f"must be a text in quotes (got {_show(got)})"
    if typ == "string_pattern_mismatch":
        return (
            f"{_show(got)} is not a valid key: use up to 40 letters (a-z), digits, '-' or '_', "
            "starting with a letter or digit"
        )
    if typ == "greater_than_equal":
        return f"must be at least {_num(ctx.get('ge'))} (got {_show(got)})"
    if typ == "greater_than":
        return f"must be more than {_num(ctx.get('gt'))} (got {_show(got)})"
    if typ == "less_than_equal":
        return f"must be at most {_num(ctx.get('le'))} (got {_show(got)})"
    if typ == "less_than":
        return f"must be less than {_num(ctx.get('lt'))} (got {_show(got)})"
    if typ == "too_short":
        n = ctx.get("min_length", 1)
        return f"needs at least {n} item{'s' if n != 1 else ''}"
    if typ == "too_long":
        return f"may have at most {ctx.get('max_length')} items"
    if typ == "literal_error":
        return f"must be {ctx.get('expected', 'one of the allowed values')} (got {_show(got)})"
    if typ.startswith("datetime") or typ.startswith("date_"):
        return (
            "must be a date and time such as 2026-12-01T09:00, in the campaign's time zone "
            f"(got {_show(got)})"
        )
    if typ == "list_type":
        return f"must be a list, one '- item' per line (got {_show(got)})"
    if typ in ("dict_type", "model_type", "model_attributes_type"):
        return f"must be a mapping of 'key: value' lines (got {_show(got)})"
    if typ == "value_error":
        msg = str(err.get("msg", ""))
        return msg.removeprefix("Value error, ")
    return str(err.get("msg", "is not valid"))


def _num(x: Any) -> str:
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return str(x)


def _allowed_keys(loc: Loc) -> list[str]:
    """The keys the model accepts at ``loc`` (a mapping inside the campaign)."""
    t: Any = Campaign
    for el in loc:
        t = _unwrap(t, el)
        if t is None:
            return []
    t = _unwrap(t, None)
    if isinstance(t, type) and issubclass(t, BaseModel):
        return list(t.model_fields)
    return []


def _unwrap(t: Any, el: str | int | None) -> Any:
    """Step from type ``t`` into ``el`` (a field name, a list index, or None: just unwrap)."""
    for _ in range(5):
        origin = typing.get_origin(t)
        if origin in (typing.Union, types.UnionType):
            models = [a for a in typing.get_args(t) if a is not type(None)]
            t = next(
                (a for a in models if isinstance(a, type) and issubclass(a, BaseModel)),
                models[0],
            )
            continue
        if origin is typing.Annotated:
            t = typing.get_args(t)[0]
            continue
        break
    if el is None:
        return t
    if isinstance(t, type) and issubclass(t, BaseModel):
        if isinstance(el, str) and el in t.model_fields:
            return t.model_fields[el].annotation
        return None
    if typing.get_origin(t) is list and isinstance(el, int):
        return typing.get_args(t)[0]
    return None


def _get(data: Any, loc: Loc) -> Any:
    for el in loc:
        if isinstance(data, dict) and el in data:
            data = data[el]
        elif isinstance(data, list) and isinstance(el, int) and 0 <= el < len(data):
            data = data[el]
        else:
            return None
    return data


# --- cross-field checks ------------------------------------------------------------------

_KEYED_SECTIONS = (
    ("scale", "scale option"),
    ("dimensions", "dimension"),
    ("categories", "category"),
    ("evaluees", "evaluee"),
    ("rater_groups", "rater group"),
)


def _items(data: dict, section: str) -> Iterator[tuple[int, dict]]:
    value = data.get(section)
    if isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, dict):
                yield i, item


def _truthy(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str):
        return v.strip().lower() in ("true", "yes", "on", "y", "t", "1")
    return v == 1


def _number(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return None
    return None


def _consistency(data: dict, where: _Locator) -> list[Problem]:
    """Checks across fields, run on the file's data whether or not the model validated,
    so that everything wrong is reported in one go."""
    out: list[Problem] = []

    def add(loc: Loc, message: str) -> None:
        out.append(_problem(where, loc, message))

    # Keys are unique within each list.
    for section, what in _KEYED_SECTIONS:
        first: dict[str, int] = {}
        for i, item in _items(data, section):
            key = item.get("key")
            if not isinstance(key, str):
                continue
            if key in first:
                add(
                    (section, i, "key"),
                    f"{what} key '{key}' is used twice (first at line "
                    f"{where.line((section, first[key], 'key'))}); each {what} needs its own key",
                )
            else:
                first[key] = i

    # Every evaluee's category is defined.
    categories = data.get("categories")
    if isinstance(categories, list):
        defined = [c["key"] for _, c in _items(data, "categories") if isinstance(c.get("key"), str)]
        for i, ev in _items(data, "evaluees"):
            cat = ev.get("category")
            if isinstance(cat, str) and cat not in defined:
                msg = (
                    f"evaluee '{ev.get('key')}' is in category '{cat}', which is not defined "
                    f"under categories (defined: {', '.join(defined) or 'none'})"
                )
                close = difflib.get_close_matches(cat, defined, n=1, cutoff=0.6)
                if close:
                    msg += f"; did you mean '{close[0]}'?"
                add(("evaluees", i, "category"), msg)

    # A group rating its own unit needs every evaluee to have a unit.
    own_unit_groups = [
        str(g.get("key")) for _, g in _items(data, "rater_groups") if g.get("rates") == "own_unit"
    ]
    if own_unit_groups:
        for i, ev in _items(data, "evaluees"):
            if ev.get("kind") == "person" and not ev.get("unit"):
                groups = ", ".join(f"'{k}'" for k in own_unit_groups)
                add(
                    ("evaluees", i, "unit"),
                    f"evaluee '{ev.get('key')}' is a person without a unit, but rater group "
                    f"{groups} rates only its own unit (rates: own_unit): add 'unit: <unit key>' "
                    "to say whose staff rate this person",
                )

    # The satisfaction rate needs satisfied levels.
    scale = data.get("scale")
    if isinstance(scale, list) and scale:
        options = [o for _, o in _items(data, "scale")]
        if options and not any(_truthy(o.get("satisfied", False)) for o in options):
            add(
                ("scale",),
                "no scale option is marked 'satisfied: true', so no satisfaction rate can be "
                "computed: mark the levels that count as satisfied (e.g. 满意 and 比较满意)",
            )

    # closes after opens.
    opens, closes = _time(data, "opens"), _time(data, "closes")
    if opens is not None and closes is not None and closes <= opens:
        add(
            ("closes",),
            f"closes ({closes:%Y-%m-%d %H:%M}) must be later than opens "
            f"({opens:%Y-%m-%d %H:%M})",
        )

    # Rater groups: open xor sample; weights add up to something.
    groups = list(_items(data, "rater_groups"))
    for i, g in groups:
        is_open = _truthy(g.get("open", False))
        has_sample = g.get("sample") is not None
        if is_open and has_sample:
            add(
                ("rater_groups", i, "sample"),
                f"rater group '{g.get('key')}' is open (anyone may join, no random draw), so it "
                "cannot also have a sample size: remove 'sample' or set 'open: false'",
            )
        elif not is_open and not has_sample:
            add(
                ("rater_groups", i, "sample"),
                f"rater group '{g.get('key')}' is drawn at random, so it needs 'sample:' (how "
                "many raters to draw), or 'open: true' if anyone may join without a draw",
            )
    weights = [_number(g.get("weight")) for _, g in groups]
    valid = [w for w in weights if w is not None and w >= 0]
    if groups and len(valid) == len(weights) and sum(valid) == 0:
        add(
            ("rater_groups",),
            "the rater groups' weights add up to 0: at least one group needs a weight above 0",
        )
    elif groups and len(valid) == len(weights):
        # The democratic part of the score is out of this total: weights that add up to
        # anything else silently change every score.
        scoring = data.get("scoring") if isinstance(data.get("scoring"), dict) else {}
        total = _number(scoring.get("democratic_total", 80))
        if total is not None and total > 0 and abs(sum(valid) - total) > 1e-9:
            parts = " + ".join(f"{_num(w)} {g.get('key')}" for w, (_, g) in zip(valid, groups, strict=True))
            add(
                ("rater_groups",),
                f"the rater groups' weights add up to {_num(sum(valid))} ({parts}), but the democratic "
                f"evaluation is out of {_num(total)} (scoring.democratic_total, default 80): fix the "
                f"weights, or set scoring.democratic_total: {_num(sum(valid))} if that is intended",
            )

    # Texts use the campaign's locales, and always have the first one (the fallback).
    # Every declared locale has every text: a rater who picks English must not meet
    # Chinese in the middle of the questionnaire. (A plain string is one text for all.)
    locales = data.get("locales", ["zh", "en"])
    if isinstance(locales, list) and locales and all(isinstance(x, str) for x in locales):
        missing: dict[str, list[Loc]] = {lang: [] for lang in locales[1:]}
        for loc, text in _texts(data):
            if not isinstance(text, dict):
                continue
            for lang in text:
                if lang not in locales:
                    add(
                        loc + (lang,),
                        f"locale '{lang}' is not one of the campaign's locales "
                        f"({', '.join(locales)}): add it to 'locales' or fix the name",
                    )
            if locales[0] not in text:
                add(
                    loc,
                    f"has no '{locales[0]}' text: the first locale ({locales[0]}) is what raters "
                    "see when a translation is missing, so it must always be given",
                )
            for lang in missing:
                if lang not in text:
                    missing[lang].append(loc)
        for lang, where_missing in missing.items():
            if len(where_missing) <= MISSING_ONE_BY_ONE:
                for loc in where_missing:
                    add(loc, f"has no '{lang}' text, but '{lang}' is one of the campaign's locales: "
                             f"add it, or remove '{lang}' from locales")
            else:
                listed = ", ".join(f"{_path(list(loc))} (line {where.line(loc)})" for loc in where_missing)
                add(
                    ("locales",),
                    f"'{lang}' is one of the campaign's locales, but {len(where_missing)} texts have no "
                    f"'{lang}' version: {listed}. Add them, or remove '{lang}' from locales",
                )
    return out


MISSING_ONE_BY_ONE = 10  # more missing translations than this are listed in one problem


def calendar_warnings(campaign: Campaign, now: datetime) -> list[str]:
    """Dates that are allowed but probably a mistake (a year typo): shown by ``campaign
    check``, confirmed on ``campaign load``. Pure: ``now`` is given."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(campaign.timezone)
    shown = {name: f"{getattr(campaign, name).astimezone(tz):%Y-%m-%d %H:%M} ({campaign.timezone})"
             for name in ("opens", "closes")}
    out = []
    if campaign.closes <= now:
        out.append(f"closes {shown['closes']} is in the past: the campaign would be over as soon as it is "
                   "loaded (a typo in the year?)")
    elif campaign.opens <= now:
        out.append(f"opens {shown['opens']} is in the past: the campaign is open as soon as it is loaded")
    if campaign.opens - now > timedelta(days=366):
        out.append(f"opens {shown['opens']}, more than a year from now (a typo in the year?)")
    return out


def _time(data: dict, name: str) -> datetime | None:
    value = data.get(name)
    if value is None:
        return None
    try:
        t = TypeAdapter(datetime).validate_python(value)
    except ValidationError:
        return None
    if t.tzinfo is None:
        try:
            tz = ZoneInfo(str(data.get("timezone", "Asia/Shanghai")))
        except (ZoneInfoNotFoundError, ValueError):
            tz = ZoneInfo("UTC")
        t = t.replace(tzinfo=tz)
    return t


def _texts(data: dict) -> Iterator[tuple[Loc, Any]]:
    """Every text of the file, with its location."""
    for name in ("title", "dont_know"):
        if name in data:
            yield (name,), data[name]
    opinion = data.get("opinion")
    if isinstance(opinion, dict) and "prompt" in opinion:
        yield ("opinion", "prompt"), opinion["prompt"]
    fields = {
        "scale": ("label",),
        "dimensions": ("label", "hint"),
        "categories": ("label",),
        "evaluees": ("name", "duties"),
        "rater_groups": ("label",),
    }
    for section, names in fields.items():
        for i, item in _items(data, section):
            for name in names:
                if name in item:
                    yield (section, i, name), item[name]
            if section == "evaluees" and isinstance(item.get("commitments"), list):
                for j, c in enumerate(item["commitments"]):
                    yield (section, i, "commitments", j), c


# --- retention ---------------------------------------------------------------------------


def without_organizers(text: str, organizers: list[int]) -> str:
    """The campaign file as loaded, with the organizers' chat ids removed (a purge keeps
    the file for the record, not the people in it; the kit publishes it): every item of
    ``organizers:`` reads ``"[removed]"`` however it was written (123, 0x75BCD15,
    123_456_789), the comments on those lines go (they may name the person), and any
    other mention of an id in decimal too; the rest stays as it was written."""
    import re

    from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

    try:
        root = _compose(text)
    except Exception:  # noqa: BLE001  (stored files were valid; a broken one keeps the plain pass below)
        root = None
    if isinstance(root, MappingNode):
        for key, value in root.value:
            if not (isinstance(key, ScalarNode) and key.value == "organizers"):
                continue
            items = value.value if isinstance(value, SequenceNode) else [value]
            scalars = [n for n in items if isinstance(n, ScalarNode)]
            last = max([key.start_mark.line, *(n.end_mark.line for n in scalars)])
            for n in sorted(scalars, key=lambda n: n.start_mark.index, reverse=True):
                text = text[:n.start_mark.index] + '"[removed]"' + text[n.end_mark.index:]
            lines = text.splitlines(keepends=True)
            for i in range(key.start_mark.line, min(last + 1, len(lines))):
                body = lines[i].rstrip("\r\n")
                lines[i] = re.sub(r"(^|\s)#.*$", "", body).rstrip() + lines[i][len(body):]
            text = "".join(lines)
    for chat_id in organizers:
        text = re.sub(rf"(?<![\w-]){re.escape(str(chat_id))}(?!\w)", '"[removed]"', text)
    return text
