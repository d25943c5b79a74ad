"""Removing personal data from opinions before they go back to an evaluee (pure).

Raters sometimes type their own (or someone else's) phone number, ID number, e-mail,
bank card, address or name into an opinion. Opinions are returned verbatim (原汁原味),
so we replace only those pieces with a visible placeholder and keep every other word.

What is removed (Chinese and English text):

* e-mail addresses;
* resident ID numbers: 18 characters whose GB 11643 check digit is right;
* bank card numbers: 16-19 digits (grouping spaces/dashes allowed) passing the Luhn check;
* mobile numbers (1[3-9] + 9 digits, optional +86 / 0086), landlines with an area code
  (010-12345678, (0755) 1234 5678, ext.), international numbers written with "+", and
  North-American style numbers ((415) 555-0132);
* any run of 7+ digits (or an id with a digit) after a contact marker (电话, 手机, tel, phone …);
* chat ids after a WeChat / QQ marker (微信, 微信号, vx, wx, V信, QQ, 扣扣 …; in English
  "WeChat: …", "WeChat ID …"): a WeChat id (6-20 characters from a letter) or a QQ number;
* addresses after a marker (地址：…, 住在…, 家住…, address: …, I live at/in/on …), up to
  the end of the clause; without a marker, a house number after a road name (幸福路88号
  3栋2单元: the number and what follows go, the road stays) and flats (3栋2单元501室);
* licence plates (浙A12345, 粤B·D12345);
* mobile numbers in Chinese numerals, 大写 numerals (壹叁捌…) or a mix with Arabic
  digits (1三8…), standing alone or after a contact marker;
* names after a marker (我叫…, 我的名字是…, 本人…, 姓名…, 名字…, 我姓…, 我是 + a
  surname-led name, 我是<place>的<name>, my name is …, I am / I'm + a name, name: …); the
  markers allow spaces, a colon (full- or half-width) or nothing before the name,
  English markers any letter case.

``strict=True`` (opinions of a rater group below ``min_group_size`` for the evaluee, who
could otherwise recognise the few writers) also removes what the writer says about
themselves (我是…, 作为…, 我在…工作, I am…, to the end of the clause) and every number of 5
or more digits.

Matching runs on an NFKC-normalised copy (full-width digits, letters, colons and spaces
become their plain forms), character by character so every position maps back to the
original; the output keeps the original characters of everything that is not removed.

Near misses stay: years, dates, times, prices, percentages, counts, and long numbers
that fail their checksum and follow no marker. The patterns favour removing too much
over too little only where a marker says personal data follows.
"""

from __future__ import annotations

import re
import unicodedata

PLACEHOLDER_ZH = "〔已隐去〕"
PLACEHOLDER_EN = "[removed]"

_HAN = re.compile(r"[\u4e00-\u9fff]")
# What a removed span becomes before the final placeholder pass (never in normal text).
_MARK = "\x00"

# --- numbers with a checksum ------------------------------------------------------------
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def valid_resident_id(s: str) -> bool:
    """GB 11643-1999: 17 digits, a check character, a plausible birth date."""
    s = s.upper()
    if not re.fullmatch(r"\d{17}[\dX]", s):
        return False
    total = sum(int(c) * w for c, w in zip(s[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != s[17]:
        return False
    year, month, day = int(s[6:10]), int(s[10:12]), int(s[12:14])
    return 1900 <= year <= 2100 and 1 <= month <= 12 and 1 <= day <= 31


def luhn(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


# --- patterns ----------------------------------------------------------------------------
_NB_BEFORE = r"(?<![\w.\-/])"  # not glued to a longer token
_NB_AFTER = r"(?![\w\-/])"

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_CARD = re.compile(r"(?<![\d\-])\d(?:[ \-]?\d){15,18}(?![\d\-])")
_MOBILE = re.compile(r"(?<![\d+])(?:(?:\+|00)86[ \-]?)?1[3-9]\d(?:[ \-]?\d){8}(?!\d)")
_LANDLINE = re.compile(
    r"(?<![\d\-])(?:\(0\d{2,3}\)\s?|（0\d{2,3}）|0\d{2,3}[ \-])\d{3,4}[ \-]?\d{4}"
    r"(?:\s?(?:转|ext\.?|x|-)\s?\d{1,5})?(?!\d)", re.I)
_INTL = re.compile(r"(?<![\w+])\+\d{1,3}(?:[ \-.]?\(?\d{1,4}\)?){2,5}(?!\d)")
_NANP = re.compile(r"(?<!\d)\(\d{3}\)\s?\d{3}[\-. ]\d{4}(?!\d)|(?<![\d\-])\d{3}[\-.]\d{3}[\-.]\d{4}(?![\d\-])")
_CONTACT = re.compile(
    r"((?:联系)?电话|手机号?码?|座机|联系方式|tel(?:ephone)?|phone(?: number)?|mobile|cell|"
    r"call me(?: at| on)?|whatsapp)"
    r"(\s*(?:是|为|：|:|#|号码是)?\s*)(\+?\d[\d \-]{5,}\d|(?=[A-Za-z0-9_\-]*\d)[A-Za-z][A-Za-z0-9_\-]{4,}|"
    r"[0-9幺一二三四五六七八九〇零○壹贰貳叁參肆伍陆陸柒捌玖洞](?:[ \-]?[0-9幺一二三四五六七八九〇零○壹贰貳叁參肆伍陆陸柒捌玖洞]){6,11})",
    re.I)
# Chat ids: after a WeChat / QQ marker (also the usual evasions: vx, wx, V信, 薇信, 扣扣),
# a WeChat id (6-20 characters from a letter), a QQ number (5-11 digits) or a phone.
# In English a bare word after "WeChat" needs a colon or "ID" ("WeChat payments" stays).
_CHAT_ID = re.compile(
    r"((?:加我|加)?(?:微信号?|薇信|威信|V信|v信|徽信|vx|wx|weixin|QQ号?|qq号?|扣扣号?|企鹅号)"
    r"\s*(?:号码|号|账号|ID|id)?\s*(?:是|为|：|:)?\s*)"
    r"([A-Za-z][A-Za-z0-9_\-]{5,19}|\d{5,11}|"
    r"[0-9幺一二三四五六七八九〇零○壹贰貳叁參肆伍陆陸柒捌玖洞](?:[ \-]?[0-9幺一二三四五六七八九〇零○壹贰貳叁參肆伍陆陸柒捌玖洞]){4,11})"
    r"(?![A-Za-z0-9_\-])", re.I)
_CHAT_ID_EN = re.compile(
    r"(\b(?:wechat|qq|line|telegram|signal)(?:\s+id)?\s*(?::|is|=)\s*|\b(?:wechat|qq)\s+id\s+)"
    r"(@?[A-Za-z][A-Za-z0-9_\-]{4,31})(?![A-Za-z0-9_\-])|"
    r"(\b(?:wechat|qq|line)\s+)((?=[A-Za-z0-9_\-]*\d)[A-Za-z0-9][A-Za-z0-9_\-]{4,19})(?![A-Za-z0-9_\-])", re.I)
# Licence plates: a province character, a letter, then 5 (6 for new-energy cars) letters
# or digits with at least 3 digits (浙A12345, 粤B·D12345, 京AD1234X).
_PLATE = re.compile(
    r"(?<![A-Za-z0-9])[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-Za-z]\s?[·•\-]?\s?"
    r"(?=(?:[A-Za-z]*\d){3})[A-Za-z0-9]{5,6}(?![A-Za-z0-9])")
# Digits as people write them: Chinese numerals, 大写 (壹贰叁…, used to defeat filters)
# and Arabic digits, also mixed (1三8…).
_ZH_DIGIT = "幺一二三四五六七八九〇零○壹贰貳叁參肆伍陆陸柒捌玖洞"
_ANY_DIGIT = rf"[0-9{_ZH_DIGIT}]"
_ONE, _THREE_TO_NINE = "1幺一壹", "3-9三四五六七八九叁參肆伍陆陸柒捌玖"
# A mobile number with at least one non-Arabic digit (all-Arabic ones are ``_MOBILE``):
# 1, then 3-9, then 9 more.
_MOBILE_ZH = re.compile(
    rf"(?<![0-9{_ZH_DIGIT}十百千万亿两拾佰仟])(?=[^，。\n]{{0,30}}?[{_ZH_DIGIT}])[{_ONE}][ \-]?[{_THREE_TO_NINE}]"
    rf"(?:[ \-]?{_ANY_DIGIT}){{9}}(?![0-9{_ZH_DIGIT}十百千万亿两拾佰仟])")

_CLAUSE_ZH = r"[^，。；！？,;!?\n]+"
_ADDRESS = re.compile(
    r"((?:家庭|居住|通讯|联系)?地址(?:是|为|在)?\s*[：:]?\s*|(?<!居)住在|家住(?:在)?|住址(?:是|为)?\s*[：:]?\s*)"
    r"(" + _CLAUSE_ZH + ")")
# A house number after a road name, without any marker word (幸福路88号3栋2单元, 东街12号,
# 建设大道100号院): the number and the building / unit / room after it go, the road
# (a place anyone may name in a complaint) stays. Also 3栋2单元501室 on its own.
_NUM = r"[0-9一二三四五六七八九十百零〇]+"
_UNIT = rf"(?:-?{_NUM}\s*(?:号楼|号院|栋|幢|座|单元|楼|层|室|户|号|弄|支弄))"
_HOUSE = re.compile(
    rf"([\u4e00-\u9fff](?:路|街|巷|弄|大道|胡同))\s*({_NUM}\s*(?:号|弄)(?:院|大院)?(?:附{_NUM}号)?{_UNIT}*)"
    r"(?!\s*(?:线|公交|窗口|文件|业务|柜台))")
_FLAT = re.compile(rf"(?<![0-9])(?:{_NUM}\s*(?:栋|幢|号楼)\s*{_NUM}\s*单元(?:\s*{_NUM}\s*(?:室|号|户))?|"
                   rf"{_NUM}\s*单元\s*{_NUM}\s*(?:室|号|户)|"
                   rf"[0-9]{{3,4}}\s*室)")
_ADDRESS_EN = re.compile(
    r"\b((?:my |home |mailing )?address(?: is)?\s*:?\s*|I live (?:at|in|on)\s+|I'm living at\s+)"
    r"([^.;!?\n]+?)(?=[.;!?\n]|$)", re.I)

# Common surnames, so that "我是张伟" is a name and "我是一名教师" is not.
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_COMPOUND = "欧阳|司马|上官|诸葛|东方|皇甫|尉迟|公孙|慕容|令狐|司徒|长孙|宇文"
# Role words that start with a surname character but are not names.
_NOT_NAMES = ("司机", "方面", "高中", "程序员", "金融", "石油", "周边", "于是", "马路", "黄牛", "白领",
              "钟点工", "谢谢", "孙子", "任职", "高龄", "林业", "林场", "范围", "严重", "武警", "毛病",
              "许多", "马上", "金额", "董事", "程度", "曾经", "周末", "陈述", "王牌", "万一", "石匠",
              "江湖", "龙头", "史上", "何时", "向来", "汤圆", "方便", "白天", "高兴", "黄色", "田间",
              "周一", "周二", "周三", "周四", "周五", "周六", "周日", "白班", "夜班", "严格", "任劳")
_ZH_NAME = rf"(?:{_COMPOUND}|[{_SURNAMES}])[\u4e00-\u9fff]{{1,2}}"
# After 我叫 these start an ordinary sentence, not a name (我叫了三次号, 我叫他们等一下).
_NOT_NAME_START = "了过着他她它你们人车号不没也都就又还再在到来去醒上出住得的一外"
_NAME_STRONG = re.compile(
    r"(我叫\s*[：:]?\s*|我的名字(?:\s*(?:是|叫)\s*[：:]?|\s*[：:])\s*"
    r"|(?:本人)?姓名(?:\s*(?:是|叫)\s*[：:]?|\s*[：:]|\s+)\s*"
    r"|本人(?:叫|名叫)\s*[：:]?\s*|本人\s*[：:]\s*|名字\s*[：:]\s*|联系人\s*[：:]?\s*)"
    rf"((?![{_NOT_NAME_START}])[\u4e00-\u9fff·]{{2,4}}|[A-Z][a-z]+(?: [A-Z][a-z]+){{0,2}})")
_NAME_SURNAME = re.compile(r"(我姓\s*)([\u4e00-\u9fff])")
# 我是 / 本人是 / "本人 张三": only a surname-led name ending its clause (我是一名教师 stays;
# 我是高新区的… and 我是石家庄的… too: a name before 的 is ``_NAME_OF_PLACE``'s business).
_NAME_WEAK = re.compile(
    rf"(我是\s*|本人是\s*|本人\s+)({_ZH_NAME})(?=[，。,.！!？?\s、；;]|$|[,，]?(?:来自|住|家住|在))")
# A name glued to its marker (本人刘建国, 姓名刘建国, 名字刘建国) or after "<place>的"
# (我是城关镇的刘建国): a surname-led name, as short as fits, that ends its clause or is
# followed by what people write after their name (反映, 投诉, 电话 …).
_ZH_NAME_SHORT = rf"(?:{_COMPOUND}|[{_SURNAMES}])[\u4e00-\u9fff]{{1,2}}?"
_BOUNDARY = r"[，。,.！!？?\s、；;：:（()）]|$"
_AFTER_NAME = r"反映|投诉|举报|来自|家住|住在|现住|电话|手机|联系|身份证|特此|认为|希望|建议|要求|请求|今年|去年|现年|男|女|是|在"
_PREPOSITIONS = "向于在和与对给为从跟把被将"
_NAME_GLUED = re.compile(
    rf"(本人|(?:本人)?姓名|名字(?:叫|是)?|签名)({_ZH_NAME_SHORT})(?=({_BOUNDARY})|{_AFTER_NAME})")
_NAME_OF_PLACE = re.compile(
    rf"(我是|本人是)([^，。,.！!？?\s、；;的]{{1,12}}的)({_ZH_NAME_SHORT})(?=({_BOUNDARY})|{_AFTER_NAME})")
_EN_NAME = r"[A-Z][a-z'\-]+(?:\s+[A-Z][a-z'\-]+){0,2}"
_NAME_EN = re.compile(rf"(\b(?i:my name is|my name's|name\s*:|this is|signed,?)\s+)({_EN_NAME})")
_NAME_EN_WEAK = re.compile(rf"(\b(?i:I am|I'm|I’m)\s+)({_EN_NAME})")
# Names typed all in lower case: after "my name is" the words up to the first common word;
# after "i am" two or three words ending the clause, none of them a common word.
_NAME_EN_LOW = re.compile(r"(\b(?i:my name is|my name's|name\s*:)\s+)([a-z][a-z'\-]+(?:\s+[a-z][a-z'\-]+){0,2})")
_NAME_EN_WEAK_LOW = re.compile(
    r"(\b(?i:I am|I'm|I’m)\s+)([a-z][a-z'\-]+(?:\s+[a-z][a-z'\-]+){1,2})"
    r"(?=\s*(?:[,.;:!?]|$)|\s+(?:and|from|of|here|speaking|calling)\b)")
# Capitalised words after "I am" that are not names.
_EN_NOT_NAMES = {"Chinese", "English", "American", "British", "Canadian", "Japanese", "Korean", "French",
                 "German", "Indian", "Sorry", "Not", "Very", "Really", "Also", "Just", "Still", "So", "The",
                 "A", "An", "Happy", "Unhappy", "Satisfied", "Disappointed", "Here", "Writing", "Glad",
                 "Grateful", "Angry", "Tired", "Retired", "Unemployed", "Self", "In", "On", "At", "From"}
# Lower-case words that are never part of a name typed after "my name is" / "i am".
_EN_COMMON = {w.lower() for w in _EN_NOT_NAMES} | set(
    "a an the and or but not no never always very really so just still also too quite pretty "
    "extremely totally completely rather here there in on at from with for to of by as about "
    "is was be been this that it its my your our their his her me you we they who what which "
    "sure afraid glad sad upset sick ill done fine ok okay good bad new old young local fed "
    "resident citizen student teacher worker farmer driver parent mother father mom dad wife "
    "husband son daughter customer user member owner neighbour neighbor taxpayer pensioner "
    "senior veteran volunteer nurse doctor lawyer one two three someone somebody nobody "
    "unable able going trying writing waiting calling asking hoping out over off up down "
    "busy late early ready free poor rich alone afraid aware annoyed furious shocked".split())
_EN_SUFFIXES = ("ing", "ed", "ly", "ful", "ous", "ive", "able", "ible", "less", "ness")


def _is_common(word: str) -> bool:
    w = word.lower()
    return w in _EN_COMMON or w.endswith(_EN_SUFFIXES)


# Strict mode (opinions of a rater group too small to hide in): whatever the writer says
# about themselves, to the end of the clause, and every number of 5 or more digits.
_SELF = re.compile(
    r"(我是|我家在|我家是|我们家|本人是|本人系|作为(?:一名|一个|一位)?|我从事|我负责|我所在的?|我们(?:科室|单位|部门)|"
    # 我在… only where it says where the writer works (我在窗口等了两个小时 is an experience)
    r"(?:我|本人)在(?=[^，。；！？,;!?\n]*(?:工作|上班|任职|干了|待了|负责|当过|担任)))"
    r"([^，。；！？,;!?\n]+)")
# (I am + a role: "I am the only driver…", not "I am disappointed with the queue")
_SELF_EN = re.compile(r"(\b(?i:(?:I am|I'm|I’m)(?= (?:a|an|the|one of|from|in charge of|responsible for) )|"
                      r"I work (?:in|at|for|as)|as an?|my (?:job|office|unit) is)\s+)([^,.;!?\n]+)")
_LONG_NUMBER = re.compile(rf"(?<![0-9{_ZH_DIGIT}])(?:{_ANY_DIGIT}[ \-]?){{4,}}{_ANY_DIGIT}(?![0-9{_ZH_DIGIT}])")


# --- matching on a normalised copy ---------------------------------------------------------
class _Work:
    """The NFKC-normalised text being scrubbed, each character remembering which original
    characters it came from, so removed spans map back and kept text stays as typed."""

    def __init__(self, text: str) -> None:
        self.original = text
        chars: list[str] = []
        self.src: list[tuple[int, int]] = []
        for i, c in enumerate(text):
            # Per character, so positions map back (combining marks are left uncomposed).
            norm = unicodedata.normalize("NFKC", c) if c != _MARK else "\ufffd"
            for n in norm or c:
                chars.append(n)
                self.src.append((i, i + 1))
        self.s = "".join(chars)

    def sub(self, pattern: re.Pattern, span) -> None:
        """Replace with one mark the span ``span(match)`` returns (absolute (start, end) in
        the working text, or None to keep the match)."""
        parts: list[str] = []
        src: list[tuple[int, int]] = []
        last = 0
        for m in pattern.finditer(self.s):
            cut = span(m)
            if cut is None or cut[0] >= cut[1]:
                continue
            a, b = cut
            parts.append(self.s[last:a])
            src.extend(self.src[last:a])
            parts.append(_MARK)
            src.append((self.src[a][0], self.src[b - 1][1]))
            last = b
        if last == 0 and not parts:
            return
        parts.append(self.s[last:])
        src.extend(self.src[last:])
        self.s = "".join(parts)
        self.src = src

    def render(self, placeholder: str) -> str:
        out: list[str] = []
        pos = 0  # original characters up to here are already written
        prev_mark = False
        for ch, (a, b) in zip(self.s, self.src, strict=True):
            if ch == _MARK:
                if not prev_mark:  # adjacent removals read as one placeholder
                    out.append(placeholder)
                prev_mark = True
                pos = max(pos, b)
            elif a >= pos:  # a character NFKC expanded (㈱ → (株)) is written once
                out.append(self.original[a:b])
                pos = b
                prev_mark = False
        return "".join(out)


def _whole(m: re.Match) -> tuple[int, int]:
    return m.span()


def _after_marker(group: int):
    def span(m: re.Match) -> tuple[int, int]:
        return m.start(group), m.end()
    return span


def _checked_numbers(w: _Work) -> None:
    def id_span(m: re.Match):
        return m.span() if valid_resident_id(m.group(0)) else None

    def card_span(m: re.Match):
        digits = re.sub(r"\D", "", m.group(0))
        return m.span() if 16 <= len(digits) <= 19 and luhn(digits) else None

    w.sub(_ID, id_span)
    w.sub(_CARD, card_span)


def _glued(first: int, name_group: int):
    """A glued name (groups ``first``..``name_group``, then the clause end if any): not a
    common word (曾经, 方便 …); led by a preposition-like surname (向, 于 …) only when its
    clause ends right after it (本人向窗口反映 stays)."""
    def span(m: re.Match):
        name = m.group(name_group)
        if name.startswith(_NOT_NAMES) or (name[0] in _PREPOSITIONS and m.group(name_group + 1) is None):
            return None
        return m.start(first), m.end(name_group)
    return span


def _names(w: _Work) -> None:
    w.sub(_NAME_OF_PLACE, _glued(2, 3))
    w.sub(_NAME_STRONG, _after_marker(2))
    w.sub(_NAME_GLUED, _glued(2, 2))
    w.sub(_NAME_SURNAME, _after_marker(2))

    def weak(m: re.Match):
        return None if m.group(2).startswith(_NOT_NAMES) else (m.start(2), m.end())

    w.sub(_NAME_WEAK, weak)
    w.sub(_NAME_EN, _after_marker(2))

    def en_weak(m: re.Match):
        return None if m.group(2).split()[0] in _EN_NOT_NAMES else (m.start(2), m.end())

    w.sub(_NAME_EN_WEAK, en_weak)

    def en_low(m: re.Match):
        # The name runs up to the first common word ("john smith and the staff…").
        end = m.start(2)
        for word in re.finditer(r"\S+", m.group(2)):
            if _is_common(word.group(0)):
                break
            end = m.start(2) + word.end()
        return (m.start(2), end) if end > m.start(2) else None

    w.sub(_NAME_EN_LOW, en_low)

    def en_weak_low(m: re.Match):
        return None if any(_is_common(x) for x in m.group(2).split()) else (m.start(2), m.end(2))

    w.sub(_NAME_EN_WEAK_LOW, en_weak_low)


_HONORIFIC = re.compile(_MARK + r"(?:先生|女士|小姐|老师|师傅|阿姨|大爷|大妈)")


def _work(text: str, strict: bool) -> _Work:
    w = _Work(text)
    w.sub(_EMAIL, _whole)
    _checked_numbers(w)
    w.sub(_CHAT_ID, _after_marker(2))

    def en_id(m: re.Match) -> tuple[int, int]:
        return (m.start(2), m.end(2)) if m.group(2) else (m.start(4), m.end(4))

    w.sub(_CHAT_ID_EN, en_id)
    w.sub(_CONTACT, _after_marker(3))
    for pattern in (_MOBILE, _MOBILE_ZH, _LANDLINE, _INTL, _NANP, _PLATE, _FLAT):
        w.sub(pattern, _whole)
    w.sub(_ADDRESS, _after_marker(2))
    w.sub(_ADDRESS_EN, _after_marker(2))
    w.sub(_HOUSE, _after_marker(2))
    _names(w)
    # "我是王" + "老师": the honorific goes with the name.
    w.sub(_HONORIFIC, _whole)
    if strict:
        w.sub(_SELF, _after_marker(2))
        w.sub(_SELF_EN, _after_marker(2))
        w.sub(_LONG_NUMBER, _whole)
    return w


def scrub(text: str, strict: bool = False) -> str:
    """``text`` with personal data replaced by a visible placeholder (〔已隐去〕 in text
    with Chinese characters, [removed] otherwise). Everything else is kept as typed.

    ``strict``: also what the writer says about themselves (我是…, 作为…, 我在…工作, I am…,
    to the end of the clause) and every number of 5 or more digits; for opinions of a rater
    group with fewer than ``min_group_size`` ballots for the evaluee."""
    return _work(text, strict).render(PLACEHOLDER_ZH if _HAN.search(text) else PLACEHOLDER_EN)


def removed_spans(text: str, strict: bool = False) -> list[tuple[int, int]]:
    """The (start, end) positions of ``text`` that ``scrub`` replaces (for measuring)."""
    w = _work(text, strict)
    return [span for ch, span in zip(w.s, w.src, strict=True) if ch == _MARK]


def is_empty(scrubbed: str) -> bool:
    """True when nothing but placeholders, punctuation and marker words is left: such an
    opinion says nothing about the evaluee and is dropped."""
    rest = scrubbed.replace(PLACEHOLDER_ZH, " ").replace(PLACEHOLDER_EN, " ")
    rest = re.sub(r"(?i)我叫|我是|我姓|本人|姓名|名字|电话|手机|地址|联系方式|微信|my name is|name|"
                  r"phone|tel|address|e-?mail|i am|i'm|call me|at|is|联系我|请联系", " ", rest)
    return not re.search(r"[\w\u4e00-\u9fff]", rest)


def scrub_opinion(text: str, strict: bool = False) -> str | None:
    """The scrubbed opinion, or None when nothing of substance is left."""
    cleaned = scrub(text, strict).strip()
    return None if not cleaned or is_empty(cleaned) else cleaned
