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
* any run of 7+ digits (or an id with a digit) after a contact marker (电话, 手机, 微信, QQ, tel, phone, WeChat …);
* addresses after a marker (地址：…, 住在…, 家住…, address: …, I live at/in/on …), up to
  the end of the clause;
* names after a marker (我叫…, 我的名字是…, 本人…, 姓名：…, 我姓…, 我是 + a surname-led
  name, my name is …, I am / I'm + capitalised words, name: …).

Near misses stay: years, dates, times, prices, percentages, counts, and long numbers
that fail their checksum and follow no marker. The patterns favour removing too much
over too little only where a marker says personal data follows.
"""

from __future__ import annotations

import re

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
    r"((?:联系)?电话|手机号?码?|座机|联系方式|微信号?|QQ号?|qq|tel(?:ephone)?|phone(?: number)?|mobile|cell|"
    r"wechat(?: id)?|call me(?: at| on)?|whatsapp)"
    r"(\s*(?:是|为|：|:|#|号码是)?\s*)(\+?\d[\d \-]{5,}\d|(?=[A-Za-z0-9_\-]*\d)[A-Za-z][A-Za-z0-9_\-]{4,})", re.I)

_CLAUSE_ZH = r"[^，。；！？,;!?\n]+"
_ADDRESS = re.compile(
    r"((?:家庭|居住|通讯|联系)?地址(?:是|为|在)?\s*[：:]?\s*|(?<!居)住在|家住(?:在)?|住址(?:是|为)?\s*[：:]?\s*)"
    r"(" + _CLAUSE_ZH + ")")
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
              "江湖", "龙头", "史上", "何时", "向来", "汤圆", "方便", "白天", "高兴", "黄色", "田间")
_ZH_NAME = rf"(?:{_COMPOUND}|[{_SURNAMES}])[\u4e00-\u9fff]{{1,2}}"
_NAME_STRONG = re.compile(
    r"(我叫|我的名字(?:是|叫)|(?:本人)?姓名(?:是|叫|\s*[：:])\s*|本人(?:是|叫|名叫)|名字\s*[：:]\s*|联系人\s*[：:]?\s*)"
    r"([\u4e00-\u9fff·]{2,4}|[A-Z][a-z]+(?: [A-Z][a-z]+){0,2})")
_NAME_SURNAME = re.compile(r"(我姓)([\u4e00-\u9fff])")
_NAME_WEAK = re.compile(rf"(我是)({_ZH_NAME})(?=[，。,.！!？?\s、；;]|$|[,，]?(?:来自|住|家住|在|的)|$)")
_EN_NAME = r"[A-Z][a-z'\-]+(?:\s+[A-Z][a-z'\-]+){0,2}"
_NAME_EN = re.compile(rf"(\b(?:[Mm]y name is|[Nn]ame\s*:|[Tt]his is|[Ss]igned,?)\s+)({_EN_NAME})")
_NAME_EN_WEAK = re.compile(rf"(\bI(?: am|'m|’m)\s+)({_EN_NAME})")
# Capitalised words after "I am" that are not names.
_EN_NOT_NAMES = {"Chinese", "English", "American", "British", "Canadian", "Japanese", "Korean", "French",
                 "German", "Indian", "Sorry", "Not", "Very", "Really", "Also", "Just", "Still", "So", "The",
                 "A", "An", "Happy", "Unhappy", "Satisfied", "Disappointed", "Here", "Writing", "Glad",
                 "Grateful", "Angry", "Tired", "Retired", "Unemployed", "Self", "In", "On", "At", "From"}

def _checked_numbers(text: str) -> str:
    def id_sub(m: re.Match) -> str:
        return _MARK if valid_resident_id(m.group(0)) else m.group(0)

    def card_sub(m: re.Match) -> str:
        digits = re.sub(r"\D", "", m.group(0))
        return _MARK if 16 <= len(digits) <= 19 and luhn(digits) else m.group(0)

    text = _ID.sub(id_sub, text)
    return _CARD.sub(card_sub, text)


def _names(text: str) -> str:
    text = _NAME_STRONG.sub(lambda m: m.group(1) + _MARK, text)
    text = _NAME_SURNAME.sub(lambda m: m.group(1) + _MARK, text)

    def weak(m: re.Match) -> str:
        name = m.group(2)
        if name.startswith(_NOT_NAMES):
            return m.group(0)
        return m.group(1) + _MARK

    text = _NAME_WEAK.sub(weak, text)
    text = _NAME_EN.sub(lambda m: m.group(1) + _MARK, text)

    def en_weak(m: re.Match) -> str:
        first = m.group(2).split()[0]
        return m.group(0) if first in _EN_NOT_NAMES else m.group(1) + _MARK

    return _NAME_EN_WEAK.sub(en_weak, text)


def scrub(text: str) -> str:
    """``text`` with personal data replaced by a visible placeholder (〔已隐去〕 in text
    with Chinese characters, [removed] otherwise). Everything else is kept as typed."""
    out = _EMAIL.sub(_MARK, text)
    out = _checked_numbers(out)
    out = _CONTACT.sub(lambda m: m.group(1) + m.group(2) + _MARK, out)
    for pattern in (_MOBILE, _LANDLINE, _INTL, _NANP):
        out = pattern.sub(_MARK, out)
    out = _ADDRESS.sub(lambda m: m.group(1) + _MARK, out)
    out = _ADDRESS_EN.sub(lambda m: m.group(1) + _MARK, out)
    out = _names(out)
    # "我是王" + "老师": the honorific goes with the name.
    out = re.sub(_MARK + r"(?:先生|女士|小姐|老师|师傅|阿姨|大爷|大妈)", _MARK, out)
    out = re.sub(_MARK + r"+", _MARK, out)
    placeholder = PLACEHOLDER_ZH if _HAN.search(text) else PLACEHOLDER_EN
    return out.replace(_MARK, placeholder)


def is_empty(scrubbed: str) -> bool:
    """True when nothing but placeholders, punctuation and marker words is left: such an
    opinion says nothing about the evaluee and is dropped."""
    rest = scrubbed.replace(PLACEHOLDER_ZH, " ").replace(PLACEHOLDER_EN, " ")
    rest = re.sub(r"(?i)我叫|我是|我姓|本人|姓名|名字|电话|手机|地址|联系方式|微信|my name is|name|"
                  r"phone|tel|address|e-?mail|i am|i'm|call me|at|is|联系我|请联系", " ", rest)
    return not re.search(r"[\w\u4e00-\u9fff]", rest)


def scrub_opinion(text: str) -> str | None:
    """The scrubbed opinion, or None when nothing of substance is left."""
    cleaned = scrub(text).strip()
    return None if not cleaned or is_empty(cleaned) else cleaned
