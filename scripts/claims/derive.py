"""Derive typed values from quoted words, with well-kept libraries.

"One thousand" -> 1000 (text2num), "3,800" -> 3800 (Babel), "0800 789 321" -> +44800789321
(phonenumbers). Dates and times are read in scripts/claims/dates.py, by the rules of schema/dates.yaml.
Every function raises ValueError with a plain reason when the words do not say
what is asked; the caller adds the file and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from babel.numbers import NumberFormatError, parse_number
from phonenumbers import PhoneNumberType, shortnumberinfo
from text_to_num import text2num

from . import recognise

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


# Words that make a number a bound, not a count, when printed just before it.
COUNT_BOUND_RE = re.compile(r"(?<![\w-])(up to|fewer than|less than|at least|more than|over|about|around|almost|nearly|"
                            r"some|approximately|roughly|at most|no more than|under)\s+$", re.IGNORECASE)


def count_before(text: str, words: str) -> int:
    """The number printed just before `words` in `text` ('12 arrests', 'Two people in custody' with
    words 'arrests' or 'people in custody'; up to two words may stand between: '12 further arrests').
    A field declared `computed: number` with `words:` is read by it (schema/package.yaml). A number
    printed with a bound ('more than 20 arrests') is refused: the field is an exact count."""
    if not isinstance(text, str) or not text:
        raise ValueError("no quote to read the number from")
    pattern = re.compile(rf"(?<![\w-])(?P<number>{_NUMBER})\s+(?:[\w-]+\s+){{0,2}}?{re.escape(words)}(?![\w-])",
                         re.IGNORECASE)
    skip = not_quantities(text)
    matches = [m for m in pattern.finditer(text) if not any(lo <= m.start("number") < hi for lo, hi in skip)]
    for m in matches:  # a bound before the number ('more than 20 arrests') is no exact count
        bound = COUNT_BOUND_RE.search(text[:m.start("number")])
        if bound:
            raise ValueError(f"the number of {words!r} is printed with a bound ({bound.group(1)!r} "
                             f"{m.group('number')!r}): the field holds an exact count, which the words do not give")
    found = {number_value(m.group("number")) for m in matches}
    if not found:
        raise ValueError(f"no number before {words!r} in the quote (the field counts the words {words!r})")
    if len(found) > 1:
        raise ValueError(f"the quote gives {len(found)} numbers of {words!r} ({', '.join(map(str, sorted(found)))}); "
                         "quote the words of one")
    return found.pop()


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


@dataclass(frozen=True)
class MentionWords:
    rank: str | None
    role: str | None
    start: int  # the mention's words: rank (or a role printed before) ... name ... role
    end: int
    role_span: tuple[int, int] | None


def _phrases(words) -> str:
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(words, key=len, reverse=True))


def role_pattern(speech: dict) -> str:
    """A role as speech.role_rule reads it (schema/package.yaml): a noun phrase headed by a role noun, at
    most three words before it, then of, for, at, in or to and the rest (no comma, full stop or quote)."""
    return (rf"(?:[\w’'-]+\s+){{0,3}}?(?:{_phrases(speech['role_nouns'])})(?![\w-])"
            rf"(?:\s+(?:of|for|at|in|to)\s+[^,.:;“”\n]+?)?")


def is_role(words: str, speech: dict) -> bool:
    """Whether `words` read as a role: a noun phrase headed by a role noun, holding no attribution verb
    (a verb phrase, 'gave an update today', is never a role)."""
    if not re.fullmatch(role_pattern(speech), words, re.IGNORECASE):
        return False
    if re.match(r"[\w’'-]+ing\b", words, re.IGNORECASE):  # a participle opens a verb phrase ("Speaking as ...")
        return False
    return not re.search(rf"(?<![\w’'-])(?:{_phrases(speech['verbs'])})(?![\w’'-])", words, re.IGNORECASE)


def person_at(text: str, start: int, end: int, speech: dict) -> MentionWords:
    """Rank and role of the person named at text[start:end], by speech.role_rule: the rank printed just
    before the name; the role set off by commas right after it ('Mark Rowley, head of ..., said'), or
    printed before the rank and name at the start of a sentence or clause ('The head of ..., Assistant
    Commissioner Mark Rowley, gave ...'). Words by the name that are no role are never read as one."""
    rank, first = None, start
    before = re.search(r"(" + recognise.RANK_RE.pattern + r")\s+$", text[max(0, start - 60):start])
    if before:
        rank, first = before.group(1), start - len(before.group(0))
    last, role, role_span = end, None, None
    after = re.match(rf",\s+(?:(?:the|a|an)\s+)?(?P<role>{role_pattern(speech)}),", text[end:], re.IGNORECASE)
    if after and is_role(after.group("role"), speech):
        role, role_span = after.group("role"), (end + after.start("role"), end + after.end("role"))
        last = role_span[1]
    else:
        line_start = text.rfind("\n", 0, first) + 1
        head = re.search(rf"(?:^|[.!?;:,]\s+)(?:(?:the|a|an)\s+)?(?P<role>{role_pattern(speech)}),\s+$",
                         text[line_start:first], re.IGNORECASE)
        if head and is_role(head.group("role"), speech):
            role = head.group("role")
            role_span = (line_start + head.start("role"), line_start + head.end("role"))
            first = role_span[0]
    return MentionWords(rank, role, first, last, role_span)


@dataclass(frozen=True)
class Attribution:
    verb: str | None
    speaker: tuple[int, int] | None  # the span of the governed mention


def attribution_speaker(text: str, start: int, end: int, mentions: list[tuple[int, int]], speech: dict) -> Attribution:
    """The mention the attribution text[start:end] introduces as speaker, by speech.speaker_rule: the
    nearest mention ending before the first attribution verb (a mention inside another's words aside),
    or, with none before it, the first after it; after a preposition ('according to') the first after
    it. `mentions` are the (start, end) spans of the mentions' words. None when no verb is printed."""
    words = text[start:end]
    found = re.search(rf"(?<![\w’'-])(?P<prep>{_phrases(speech['prepositions'])})|"
                      rf"(?<![\w’'-])(?P<verb>{_phrases(speech['verbs'])})(?![\w’'-])", words, re.IGNORECASE)
    if not found:
        return Attribution(None, None)
    inside = [(s, t) for s, t in mentions if start <= s and t <= end]
    top = sorted(m for m in inside if not any(o != m and o[0] <= m[0] and m[1] <= o[1] for o in inside))
    verb_start, verb_end = start + found.start(), start + found.end()
    before = [m for m in top if m[1] <= verb_start]
    after = [m for m in top if m[0] >= verb_end]
    if found.group("prep") or not before:
        return Attribution(found.group(0), after[0] if after else None)
    return Attribution(found.group(0), before[-1])


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
