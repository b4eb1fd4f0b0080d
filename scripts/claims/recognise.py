"""Find fact-bearing tokens in a text: numbers (digits and words), dates, times,
weekday and relative-day phrases, phone numbers, threat-level words and names.

Used by the coverage check (every such token must lie in some evidence span) and
by the drafting aid (every such token is a candidate fact). Each finder returns
`Token(kind, start, end, text)` with 0-based, end-exclusive character offsets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import shortnumberinfo

REGION = "GB"

NUMBER_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy "
    "eighty ninety hundred thousand million billion"
).split()
_WORD = r"(?:" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r")"
NUMBER_WORDS_RE = re.compile(rf"\b{_WORD}(?:(?:[\s-]+|\s+and\s+){_WORD})*\b", re.IGNORECASE)
DIGITS_RE = re.compile(r"(?<![\w.])\d{1,3}(?:,\d{3})+(?![\d,])|(?<![\w.,])\d+(?!\d)")
# Clock times: "20:15", "9.30am", and the 24-hour "0700 hours" of police bulletins (a time, not a span).
# ("22.15hrs" too: a dotted 24-hour time is a clock time only with its unit, else it may be a decimal.)
CLOCK_HOURS_RE = re.compile(r"\b(?:[01]\d|2[0-3])\.?[0-5]\d\s?(?:hours|hrs)\b", re.IGNORECASE)
# Noon by name (midnight is left out: whether it starts or ends the day it is printed with is not said).
NOON_RE = re.compile(r"\b(?:noon|midday|mid-day)\b", re.IGNORECASE)
TIME_RE = re.compile(r"\b(?:[01]?\d|2[0-3]):[0-5]\d\b|\b\d{1,2}(?:\.\d{2})?\s?(?:am|pm)\b|"
                     + CLOCK_HOURS_RE.pattern + "|" + NOON_RE.pattern, re.IGNORECASE)
MONTHS = ("January February March April May June July August September October "
          "November December").split()
_MONTH = "(?:" + "|".join(MONTHS) + ")"
# Calendar dates in words ("30th May 2017", "May 24, 2017", "23 May") or in digits ("30/05/2017", read
# day first by schema/dates.yaml's `dayfirst`).
NUMERIC_DATE_RE = re.compile(r"\b\d{1,2}/\d{1,2}/\d{4}\b")
DATE_RE = re.compile(
    rf"\b(?:\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}(?:\s+\d{{4}})?"
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?)\b|{NUMERIC_DATE_RE.pattern}")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
PARTS_OF_DAY = ("morning", "afternoon", "evening", "night")
WEEKDAY_RE = re.compile(rf"\b(?:{'|'.join(WEEKDAYS)})(?:\s+(?:{'|'.join(PARTS_OF_DAY)}))?\b")
# Words that place something in time relative to the text: today, last night,
# the coming days, 12 to 96 hours, one day into ... Any of these unit words is a
# fact-bearing token.
RELATIVE_RE = re.compile(
    r"\b(?:today|tonight|yesterday|tomorrow|overnight|days?|weeks?|months?|years?|hours?|nights?)\b",
    re.IGNORECASE)
TIMEZONE_RE = re.compile(r"\b(?:BST|GMT|UTC)\b")

# Police ranks, longest first so "Deputy Assistant Commissioner" wins over "Assistant Commissioner".
RANKS = sorted([
    "Commissioner", "Deputy Commissioner", "Assistant Commissioner", "Deputy Assistant Commissioner",
    "Commander", "Chief Constable", "Deputy Chief Constable", "Assistant Chief Constable",
    "Chief Superintendent", "Detective Chief Superintendent", "Superintendent",
    "Detective Superintendent", "Chief Inspector", "Detective Chief Inspector", "Inspector",
    "Detective Inspector", "Sergeant", "Detective Sergeant", "Constable", "Detective Constable",
    "Police Constable",
], key=len, reverse=True)
RANK_RE = re.compile(r"\b(?:" + "|".join(RANKS) + r")\b")

_CAPITALISED = r"(?:[A-Z][a-z]+(?:['’][a-z]+)?|[A-Z]{2,})"
NAME_RE = re.compile(rf"{_CAPITALISED}(?:[ \u00a0]+(?:of[ \u00a0]+|and[ \u00a0]+)?{_CAPITALISED})*")
# Words that make a capitalised phrase an organisation's name: such a phrase keeps its first word
# even at a sentence start ("Counter Terrorism Policing North East said ...").
ORGANISATION_WORDS = ("Policing", "Police", "Constabulary", "Centre", "Center", "Agency", "Service", "Office",
                      "Ministry", "Department", "Government", "Council", "Authority", "Army", "Navy", "Forces")
ORGANISATION_WORDS_RE = re.compile(r"\b(?:" + "|".join(ORGANISATION_WORDS) + r")\b")
# Capitalised only because they open a sentence (or a page link): never the first word of a name.
SENTENCE_OPENERS = frozenset("""Follow Following After Before During Since Today Yesterday Tonight Meanwhile While
When Where As The This That These Those Both All Our Their His Her Its In On At From With Without For By If Please
Contact Call Officers""".split())
ABBREVIATION_RE = re.compile(r"[A-Z]{2,6}")
SENTENCE_START_RE = re.compile(r"(?:^|[.!?:]\s+|\n\s*|[“\"\[•]\s*)$")


@dataclass(frozen=True)
class Token:
    kind: str
    start: int
    end: int
    text: str


def _tokens(kind, pattern, text):
    return [Token(kind, m.start(), m.end(), m.group()) for m in pattern.finditer(text)]


def numbers(text: str) -> list[Token]:
    return _tokens("number", DIGITS_RE, text) + _tokens("number", NUMBER_WORDS_RE, text)


def phones(text: str) -> list[Token]:
    """Phone numbers: full numbers via phonenumbers' matcher, short ones (999) via its short-number data."""
    found = [Token("phone", m.start, m.end, m.raw_string)
             for m in phonenumbers.PhoneNumberMatcher(text, REGION)]
    for match in re.finditer(r"(?<!\d)(?<!\d )\d{3,6}(?! ?\d)", text):
        if any(t.start <= match.start() < t.end for t in found):
            continue
        try:
            parsed = phonenumbers.parse(match.group(), REGION)
        except phonenumbers.NumberParseException:
            continue  # digits that cannot be a phone number at all
        if shortnumberinfo.is_valid_short_number_for_region(parsed, REGION):
            found.append(Token("phone", match.start(), match.end(), match.group()))
    return found


def threat_words(text: str, levels) -> list[Token]:
    pattern = re.compile(r"\b(?:" + "|".join(levels) + r")\b", re.IGNORECASE)
    return _tokens("threat_level", pattern, text)


def names(text: str) -> list[Token]:
    """Capitalised words and acronyms, except a lone capitalised word that opens a
    sentence (too often an ordinary word: "Police remain", "Following the")."""
    found = []
    for match in NAME_RE.finditer(text):
        start, words = match.start(), match.group()
        if SENTENCE_START_RE.search(text[:start]):
            first, _, rest = words.partition(" ")
            if rest.strip() and ORGANISATION_WORDS_RE.search(rest) and first not in SENTENCE_OPENERS:
                pass  # an organisation's name: its first word is part of it
            elif not rest.strip():
                if ABBREVIATION_RE.fullmatch(first):
                    found.append(Token("name", start, match.end(), first))  # "BTP is working ..."
                continue
            else:
                start += len(first) + 1
                while text[start] in " \u00a0":
                    start += 1
        found.append(Token("name", start, match.end(), text[start:match.end()]))
    return found


def all_tokens(text: str, levels) -> list[Token]:
    """Every fact-bearing token of `text`, sorted by position."""
    tokens = (numbers(text) + _tokens("date", DATE_RE, text) + _tokens("time", TIME_RE, text)
              + _tokens("timezone", TIMEZONE_RE, text) + _tokens("weekday", WEEKDAY_RE, text)
              + _tokens("relative_time", RELATIVE_RE, text) + phones(text)
              + threat_words(text, levels) + names(text))
    return sorted(set(tokens), key=lambda t: (t.start, t.end, t.kind))
