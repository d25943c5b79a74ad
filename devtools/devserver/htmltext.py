"""Telegram's ``parse_mode=HTML``, ported from tdlib's ``parse_html``.

Only the tags Telegram supports are accepted (b, strong, i, em, u, ins, s, strike,
del, span class="tg-spoiler", tg-spoiler, a href, code, pre, blockquote, tg-emoji);
anything else fails with the error text Telegram sends after
``Bad Request: can't parse entities: ``.  Like Telegram, only ``&lt; &gt; &amp; &quot;``
and numeric references are decoded; other ``&...`` sequences stay literal.

Offsets and lengths of the returned entities are in UTF-16 code units, as in the
Bot API.
"""

from __future__ import annotations

__all__ = ["EntityParseError", "parse_html", "utf16_len", "trim_text"]

_TAGS = frozenset(
    "a b strong i em s strike del u ins tg-spoiler tg-emoji span pre code blockquote".split()
)
_SPACE = frozenset(" \t\r\n\v\f\0")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SIMPLE = {
    "i": "italic", "em": "italic",
    "b": "bold", "strong": "bold",
    "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "u": "underline", "ins": "underline",
    "tg-spoiler": "spoiler",
}


class EntityParseError(ValueError):
    """The HTML is not what Telegram accepts; ``str(exc)`` is Telegram's message."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _u16(ch: str) -> int:
    return 2 if ord(ch) > 0xFFFF else 1


def _decode_entity(s: str, pos: int) -> tuple[int, int]:
    """(code point, position after the reference), or (0, pos) when not decodable."""
    n = len(s)

    def at(k: int) -> str:
        return s[k] if k < n else "\0"

    end = pos + 1
    res = 0
    if at(pos + 1) == "#":
        end += 1
        if at(pos + 2) == "x":
            end += 1
            while at(end) in "0123456789abcdefABCDEF" and at(end) != "\0":
                res = res * 16 + int(s[end], 16)
                end += 1
        else:
            while at(end).isascii() and at(end).isdigit():
                res = res * 10 + int(s[end])
                end += 1
        if res == 0 or res >= 0x10FFFF or end - pos >= 10:
            return 0, pos
    else:
        while at(end).isascii() and at(end).isalpha():
            end += 1
        ch = _NAMED.get(s[pos + 1:end])
        if ch is None:
            return 0, pos
        res = ord(ch)
    if at(end) == ";":
        end += 1
    return res, end


def _checked_link(url: str) -> str:
    url = url.strip()
    if not url or any(c in _SPACE for c in url):
        return ""
    if "://" not in url and not url.lower().startswith(("tg:", "mailto:")):
        url = "http://" + url
        if url.count("/") == 2:
            url += "/"
    return url


def parse_html(source: str) -> tuple[str, list[dict]]:
    """Return (visible text, Bot API entity dicts) or raise :class:`EntityParseError`."""
    s = source
    n = len(s)

    def at(k: int) -> str:
        return s[k] if k < n else "\0"

    def bo(k: int) -> int:  # byte offset of s[k] in UTF-8, as Telegram reports it
        return len(s[:k].encode("utf-8", "surrogatepass"))

    def err(msg: str) -> EntityParseError:
        return EntityParseError(msg)

    out: list[str] = []
    u16 = 0
    stack: list[tuple[str, str, int, int]] = []  # tag, argument, utf16 offset, len(out)
    entities: list[dict] = []
    i = 0
    while i < n:
        c = s[i]
        if c == "&":
            code, nxt = _decode_entity(s, i)
            if code:
                ch = chr(code)
                out.append(ch)
                u16 += _u16(ch)
                i = nxt
                continue
        if c != "<":
            out.append(c)
            u16 += _u16(c)
            i += 1
            continue

        begin = i
        i += 1
        if at(i) != "/":
            while at(i) not in _SPACE and at(i) != ">":
                i += 1
            if i >= n:
                raise err(f"Unclosed start tag at byte offset {bo(begin)}")
            tag = s[begin + 1:i].lower()
            if tag not in _TAGS:
                raise err(f'Unsupported start tag "{tag}" at byte offset {bo(begin)}')
            argument = ""
            while at(i) != ">":
                while i < n and at(i) in _SPACE:
                    i += 1
                if at(i) == ">":
                    break
                attr_begin = i
                while at(i) not in _SPACE and at(i) not in "=>":
                    i += 1
                attr_name = s[attr_begin:i]
                if not attr_name:
                    raise err(f'Empty attribute name in the tag "{tag}" at byte offset {bo(begin)}')
                while i < n and at(i) in _SPACE:
                    i += 1
                if tag == "blockquote" and attr_name.lower() == "expandable" and at(i) != "=":
                    if i >= n:
                        raise err(f'Unclosed start tag "{tag}" at byte offset {bo(begin)}')
                    argument = "expandable"
                    continue
                if at(i) != "=":
                    raise err(
                        "Expected equal sign in declaration of an attribute of the tag "
                        f'"{tag}" at byte offset {bo(begin)}'
                    )
                i += 1
                while i < n and at(i) in _SPACE:
                    i += 1
                if i >= n:
                    raise err(f'Unclosed start tag "{tag}" at byte offset {bo(begin)}')
                if at(i) not in "'\"":
                    token_begin = i
                    while at(i).isascii() and (at(i).isalnum() or at(i) in ".-") and at(i) != "\0":
                        i += 1
                    value = s[token_begin:i].lower()
                    if at(i) not in _SPACE and at(i) != ">":
                        raise err(f"Unexpected end of name token at byte offset {bo(token_begin)}")
                else:
                    quote = s[i]
                    i += 1
                    chars: list[str] = []
                    while i < n and s[i] != quote:
                        if s[i] == "&":
                            code, nxt = _decode_entity(s, i)
                            if code:
                                chars.append(chr(code))
                                i = nxt
                                continue
                        chars.append(s[i])
                        i += 1
                    if at(i) == quote:
                        i += 1
                    value = "".join(chars)
                if i >= n:
                    raise err(f"Unclosed start tag at byte offset {bo(begin)}")
                name = attr_name.lower()
                if tag == "a" and name == "href":
                    argument = value
                elif tag == "code" and name == "class" and value.startswith("language-"):
                    argument = value[9:]
                elif tag == "span" and name == "class" and value.startswith("tg-"):
                    argument = value[3:]
                elif tag == "tg-emoji" and name == "emoji-id":
                    argument = value
            if tag == "span" and argument != "spoiler":
                raise err(f'Tag "span" must have class "tg-spoiler" at byte offset {bo(begin)}')
            stack.append((tag, argument, u16, len(out)))
            i += 1  # skip '>'
            continue

        # an end tag
        if not stack:
            raise err(f"Unexpected end tag at byte offset {bo(begin)}")
        while at(i) not in _SPACE and at(i) != ">":
            i += 1
        end_tag = s[begin + 2:i].lower()
        while i < n and at(i) in _SPACE:
            i += 1
        if at(i) != ">":
            raise err(f"Unclosed end tag at byte offset {bo(begin)}")
        tag, argument, offset, out_pos = stack[-1]
        if end_tag and end_tag != tag:
            raise err(
                f'Unmatched end tag at byte offset {bo(begin)}, expected "</{tag}>", found "</{end_tag}>"'
            )
        length = u16 - offset
        if length > 0:
            ent = _entity(tag, argument, offset, length, "".join(out[out_pos:]), entities)
            if ent is not None:
                entities.append(ent)
        stack.pop()
        i += 1

    if stack:
        raise err(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')

    text = "".join(out)
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        try:  # a pair given as two numeric references is fine
            text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le")
        except UnicodeDecodeError:
            raise err(
                "Text contains invalid Unicode characters after decoding HTML entities, "
                "check for unmatched surrogate code units"
            ) from None
    for ent in entities:
        if ent["type"] == "code":
            ent.pop("language", None)
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return text, entities


def _entity(tag: str, argument: str, offset: int, length: int, inner: str,
            entities: list[dict]) -> dict | None:
    base = {"offset": offset, "length": length}
    if tag in _SIMPLE:
        return {"type": _SIMPLE[tag], **base}
    if tag == "span":
        return {"type": "spoiler", **base}
    if tag == "tg-emoji":
        if not argument.isdigit() or int(argument) == 0:
            raise EntityParseError("Invalid custom emoji identifier specified")
        return {"type": "custom_emoji", **base, "custom_emoji_id": argument}
    if tag == "a":
        url = _checked_link(argument or inner)
        return {"type": "text_link", **base, "url": url} if url else None
    if tag == "blockquote":
        kind = "expandable_blockquote" if argument == "expandable" else "blockquote"
        return {"type": kind, **base}
    last = entities[-1] if entities else None
    same_span = last is not None and last["offset"] == offset and last["length"] == length
    if tag == "pre":
        if same_span and last["type"] == "code" and last.get("language"):
            last["type"] = "pre"
            return None
        return {"type": "pre", **base}
    # code
    if same_span and last["type"] == "pre" and argument:
        last["language"] = argument
        return None
    ent = {"type": "code", **base}
    if argument:
        ent["language"] = argument  # kept only if an enclosing <pre> claims it
    return ent


def trim_text(text: str, entities: list[dict]) -> tuple[str, list[dict]]:
    """Strip leading/trailing whitespace like Telegram does, keeping entities aligned."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    total = utf16_len(stripped)
    fixed = []
    for ent in entities:
        start = max(ent["offset"] - lead, 0)
        end = min(ent["offset"] + ent["length"] - lead, total)
        if end > start:
            fixed.append({**ent, "offset": start, "length": end - start})
    return stripped, fixed
