"""Derive typed values from quoted words, with well-kept libraries.

"One thousand" -> 1000 (text2num), "3,800" -> 3800 (Babel), "Tuesday night"
-> 2017-05-23 + night (dateutil), "0800 789 321" -> +44800789321
(phonenumbers), "May 24, 2017 20:15 BST" -> 2017-05-24T20:15+01:00 (dateutil).
Every function raises ValueError with a plain reason when the words do not say
what is asked; the caller adds the file and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

import phonenumbers
from babel.numbers import NumberFormatError, parse_number
from dateutil import parser as date_parser
from dateutil.relativedelta import relativedelta, weekday as dateutil_weekday
from phonenumbers import PhoneNumberType, shortnumberinfo
from text_to_num import text2num

from . import recognise

TIMEZONES = {"BST": 3600, "GMT": 0, "UTC": 0}


def number_value(words: str) -> int:
    """An integer from digits ("3,800") or English number words ("One thousand")."""
    words = words.strip()
    if re.fullmatch(r"[\d,]+", words):
        try:
            return int(parse_number(words, locale="en_GB"))
        except NumberFormatError as exc:
            raise ValueError(f"cannot read {words!r} as a number: {exc}") from None
    try:
        return int(text2num(words.lower().replace("-", " "), "en"))
    except ValueError as exc:
        raise ValueError(f"cannot read {words!r} as a number: {exc}") from None


@dataclass(frozen=True)
class Quantity:
    low: int | None
    high: int | None
    qualifier: str  # exact, up_to, at_least, range
    unit: str  # the word that follows the number ("military", "hours", ...)
    start: int
    end: int


_NUMBER = r"(?:{digits}|{words})".format(digits=recognise.DIGITS_RE.pattern,
                                         words=recognise.NUMBER_WORDS_RE.pattern)
QUANTITY_RE = re.compile(
    rf"(?P<prefix>\b(?:up to|at least|more than|over|fewer than|less than)\s+)?"
    rf"(?P<low>{_NUMBER})(?:\s+(?:to|and)\s+(?P<high>{_NUMBER}))?\s*(?P<unit>[\w-]*)",
    re.IGNORECASE)


def not_quantities(text: str) -> list[tuple[int, int]]:
    """Spans whose digits are no quantity: dates ("May 27, 2017"), clock times ("0700 hours",
    "20:15") and years standing alone ("in 2017")."""
    spans = [m.span() for m in recognise.DATE_RE.finditer(text)] + [m.span() for m in recognise.TIME_RE.finditer(text)]
    return spans + [m.span() for m in re.finditer(r"(?<![\d,.])(?:19|20)\d{2}(?![\d,])(?!\s+[a-z])", text)]


def quantities(text: str) -> list[Quantity]:
    """Every number or range in `text`, with its bounds and qualifier (dates, clock times and
    years aside)."""
    found = []
    skip = not_quantities(text)
    for m in QUANTITY_RE.finditer(text):
        if any(lo <= m.start("low") < hi for lo, hi in skip):
            continue
        low = number_value(m.group("low"))
        prefix = (m.group("prefix") or "").strip().lower()
        if m.group("high"):
            high = number_value(m.group("high"))
            if high < low:
                raise ValueError(f"range {m.group(0)!r} has its bounds the wrong way round")
            q = Quantity(low, high, "range", m.group("unit").lower(), m.start(), m.end())
        elif prefix in ("up to", "fewer than", "less than"):
            q = Quantity(None, low - (prefix != "up to"), "up_to", m.group("unit").lower(), m.start(), m.end())
        elif prefix in ("at least", "more than", "over"):
            q = Quantity(low + (prefix != "at least"), None, "at_least", m.group("unit").lower(), m.start(), m.end())
        else:
            q = Quantity(low, low, "exact", m.group("unit").lower(), m.start(), m.end())
        found.append(q)
    return found


TIME_UNITS = {"hour", "hours", "day", "days", "week", "weeks", "minute", "minutes"}


def headcount(text: str) -> Quantity:
    """The first quantity in `text` that counts people (not a span of time)."""
    counts = [q for q in quantities(text) if q.unit not in TIME_UNITS]
    if not counts:
        raise ValueError("no number of people in the quote")
    return counts[0]


def window_hours(text: str) -> tuple[int, int] | None:
    """'within 12 to 96 hours' -> (12, 96); None when the quote gives no window in hours."""
    spans = [q for q in quantities(text) if q.unit in ("hour", "hours")]
    if not spans:
        return None
    if len(spans) > 1:
        raise ValueError("more than one span of hours in the quote")
    q = spans[0]
    return (q.low if q.low is not None else 0, q.high)


def days_into(text: str) -> int:
    """'one day into Operation Temperer' -> 1."""
    m = re.search(rf"({_NUMBER})\s+days?\s+into\b", text, re.IGNORECASE)
    if not m:
        raise ValueError("no '<number> day(s) into' phrase in the quote")
    return number_value(m.group(1))


@dataclass(frozen=True)
class DayPhrase:
    date: date
    part_of_day: str | None
    rule: str


MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
PRINTED_DATE_RE = re.compile(rf"\b(?:\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{MONTHS})(?:\s+\d{{4}})?|(?:{MONTHS})\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}})\b")


def printed_date(text: str) -> str | None:
    """The first calendar date the words print ('30th May 2017', 'May 24, 2017', '23 May'), if any."""
    found = PRINTED_DATE_RE.search(text)
    return found.group(0) if found else None


def resolve_day_phrase(text: str, published: date) -> DayPhrase:
    """A weekday (optionally with a part of day) resolved to the latest such day
    on or before the publication date: 'Tuesday night' said on Wednesday 24 May
    2017 is 23 May 2017. Words that print their own calendar date are never
    resolved so: the weekday would guess what the words state."""
    printed = printed_date(text)
    if printed:
        raise ValueError(f"the quote prints its date ({printed!r}): a day phrase never resolves words that print "
                         "their date (a weekday resolved to the last one before publication could contradict it)")
    found = recognise.WEEKDAY_RE.findall(text)
    if len(found) != 1:
        raise ValueError(f"expected one weekday phrase in the quote, found {len(found)}")
    phrase = found[0]
    day_name, _, part = phrase.partition(" ")
    index = recognise.WEEKDAYS.index(day_name)
    resolved = published + relativedelta(weekday=dateutil_weekday(index)(-1))
    rule = (f"'{phrase}' resolved to the last {day_name} on or before the publication date "
            f"({published.isoformat()}, a {published.strftime('%A')})")
    return DayPhrase(resolved, part or None, rule)


@dataclass(frozen=True)
class Dateline:
    category: str
    published: datetime


def parse_dateline(text: str) -> Dateline:
    """'News  •  May 24, 2017 20:15 BST' -> category News, 2017-05-24T20:15:00+01:00."""
    category, sep, when = text.partition("•")
    if not sep:
        raise ValueError("a dateline reads '<category> • <date> <time> <zone>'")
    when = " ".join(when.split())  # no-break spaces to plain spaces
    zone = when.rsplit(" ", 1)[-1]
    if zone not in TIMEZONES:
        raise ValueError(f"dateline time zone {zone!r} is not one of {sorted(TIMEZONES)}")
    try:
        published = date_parser.parse(when, tzinfos=TIMEZONES)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"cannot read the dateline time {when!r}: {exc}") from None
    return Dateline(" ".join(category.split()), published)


@dataclass(frozen=True)
class Phone:
    as_printed: str
    e164: str | None
    number_type: str
    emergency: bool


_NUMBER_TYPES = {PhoneNumberType.TOLL_FREE: "toll_free", PhoneNumberType.FIXED_LINE: "fixed_line",
                 PhoneNumberType.MOBILE: "mobile", PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_line"}


def phone(text: str) -> Phone:
    """The one phone number in `text`, normalised by phonenumbers (region GB)."""
    found = recognise.phones(text)
    if len(found) != 1:
        raise ValueError(f"expected one phone number in the quote, found {len(found)}")
    printed = found[0].text
    parsed = phonenumbers.parse(printed, recognise.REGION)
    emergency = shortnumberinfo.is_emergency_number(printed, recognise.REGION)
    if phonenumbers.is_valid_number(parsed):
        e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        kind = _NUMBER_TYPES.get(phonenumbers.number_type(parsed), "other")
    else:
        e164, kind = None, "emergency" if emergency else "other"
    return Phone(printed, e164, kind, emergency)


def contact_key(number: Phone) -> str:
    """What makes two printings one contact: the E.164 number, or a short number's digits (999) in region GB."""
    return number.e164 or f"{recognise.REGION}:{re.sub(r'[^0-9]', '', number.as_printed)}"


@dataclass(frozen=True)
class ThreatChange:
    from_level: str | None
    to_level: str


def threat_change(text: str, levels) -> ThreatChange:
    """'lowered the threat level from “critical” to “severe”' -> from critical to severe; words that print one
    level ('raised the threat level to “critical”') give only the level it moves to."""
    found = recognise.threat_words(text, levels)
    names = [t.text.lower() for t in found]
    if len(found) == 2:
        between = text[found[0].end:found[1].start]
        before = text[:found[0].start]
        if re.fullmatch(r"[”\"'’]?\s+to\s+[“\"'‘]?", between) and re.search(r"\bfrom\s+[“\"'‘]?$", before):
            if names[0] == names[1]:
                raise ValueError(f"the words move the level from {names[0]} to itself")
            return ThreatChange(names[0], names[1])
        raise ValueError(f"two threat level words ({', '.join(names)}) that do not read 'from <level> to <level>'")
    return ThreatChange(None, threat_level(text, levels))


def threat_level(text: str, levels) -> str:
    found = {t.text.lower() for t in recognise.threat_words(text, levels)}
    if len(found) != 1:
        raise ValueError(f"expected one threat level word in the quote, found {sorted(found) or 'none'}")
    return found.pop()


@dataclass(frozen=True)
class Person:
    name: str
    rank: str | None
    role: str | None


def person(text: str) -> Person:
    """'Assistant Commissioner Mark Rowley, head of national Counter Terrorism Policing'
    -> rank Assistant Commissioner, name Mark Rowley, role head of national ..."""
    text = text.strip("[] ")
    named, _, role = text.partition(",")
    rank = recognise.RANK_RE.match(named)
    name = named[rank.end():].strip() if rank else named.strip()
    if not re.fullmatch(r"[A-Z][\w'’-]+(?: [A-Z][\w'’-]+)+", name):
        raise ValueError(f"{name!r} does not read as a person's name (first and last name)")
    return Person(name, rank.group() if rank else None, role.strip() or None)


def organisation(text: str, name: str | None = None) -> tuple[str, str | None]:
    """(name, abbreviation): 'Joint Terrorism Analysis Centre (JTAC)' -> both parts.
    A `name` given by the curator must stand in the quote."""
    m = re.fullmatch(r"(?P<name>.+?)\s*\((?P<abbr>[A-Z]{2,})\)", text.strip())
    if name is not None:
        if name not in text:
            raise ValueError(f"name {name!r} is not in the quote")
        return name, m.group("abbr") if m else None
    if m:
        return m.group("name"), m.group("abbr")
    return text.strip(), None
