"""Dates and times from a bulletin's words, by the rules declared in schema/dates.yaml.

- a dateline of any order, with or without a category, a time or a zone ("News • May 24, 2017 20:15
  BST", "27 May 2017", "Saturday 27 May 2017 09:30"), read by dateutil: a dateline that prints no
  time gives a publication known to the day, with no invented time;
- a date printed in the words, with its clock time when printed ("0700 hours on Tuesday 30th May
  2017", "at around 10pm on Tuesday 23 May"): stated; a printed weekday must agree with the date;
- a weekday phrase ("Tuesday night"): the last such day on or before the publication day, never
  for words that print their own date;
- relative words ("today", "overnight", "yesterday") and periods ("this weekend", "the bank holiday
  weekend", "the coming days") by the declared rules, counted from the publication day; bank
  holidays from python-holidays.

Every function raises ValueError with a plain reason when the words do not say what is asked; the
caller adds the file and line. The rules themselves are checked by input_models.DateRules.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from dateutil import parser as date_parser
from dateutil.relativedelta import relativedelta, weekday as dateutil_weekday

from . import recognise
from ..common import ROOT, BuildError, line_of
from ..inputs import input_models, yaml_input
from ..inputs.yaml_input import InputErrors

RULES_FILE = Path("schema") / "dates.yaml"


@dataclass(frozen=True)
class Rules:
    """schema/dates.yaml, loaded: the rules every bulletin's dates are read by."""

    dayfirst: bool
    zones: dict[str, timezone]
    local_zone: str
    separators: tuple[str, ...]
    relative_days: tuple[dict, ...]
    periods: tuple[dict, ...]
    bank_holidays: dict | None
    path: Path

    def zone_names(self) -> str:
        return ", ".join(sorted(self.zones))


def _offset(text: str) -> timezone:
    sign = -1 if text[0] == "-" else 1
    hours, minutes = int(text[1:3]), int(text[4:6])
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def load_rules(root: Path = ROOT) -> Rules:
    """The date rules of the package at `root`; a slip in them is an error at its line. Read once per
    version of the file (its size and modification time are part of the cache's key)."""
    path = Path(root).resolve() / RULES_FILE
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise BuildError(path, "file not found: the rules by which words give dates") from None
    return _load_rules(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _load_rules(path: Path, mtime_ns: int, size: int) -> Rules:
    loaded = yaml_input.load(path, with_lines=True)  # load_rules has found the file
    problems = input_models.check("dates", loaded, path)
    if problems:
        raise InputErrors(problems)
    data = loaded.data
    try:
        ZoneInfo(data["local_zone"])
    except (ValueError, KeyError, OSError):
        raise BuildError(path, f"local_zone {data['local_zone']!r} is not a time zone of the IANA database",
                         line_of(data, "local_zone")) from None
    every = [("relative_days", r) for r in data.get("relative_days") or []] + \
            [("periods", p) for p in data.get("periods") or []]
    seen: dict[str, int] = {}
    for section, rule in every:
        words = rule["words"]
        if words in seen:
            raise BuildError(path, f"{section}: {words!r} is declared twice (first at line {seen[words]})",
                             rule.get("__line__"))
        seen[words] = rule.get("__line__")
        if section == "periods":
            first, last = rule.get("from"), rule.get("to")
            named = [v for v in (first, last) if isinstance(v, str)]
            if named and (first != last):
                raise BuildError(path, f"periods: {words!r}: a named period ({named[0]}) is both ends, `from` and "
                                 "`to`", rule.get("__line__"))
            if isinstance(first, int) and isinstance(last, int) and last < first:
                raise BuildError(path, f"periods: {words!r}: `to` ({last}) is before `from` ({first})",
                                 rule.get("__line__"))
        if section == "periods" and any(rule.get(k) == "bank_holiday_weekend" for k in ("from", "to")) \
                and not data.get("bank_holidays"):
            raise BuildError(path, f"periods: {words!r} needs the calendar `bank_holidays:`", rule.get("__line__"))
    plain = yaml_input.strip_lines(data)
    return Rules(dayfirst=plain["dayfirst"], zones={k: _offset(v) for k, v in plain["time_zones"].items()},
                 local_zone=plain["local_zone"], separators=tuple(plain["dateline_separators"]),
                 relative_days=tuple(plain.get("relative_days") or []), periods=tuple(plain.get("periods") or []),
                 bank_holidays=plain.get("bank_holidays"), path=path)


# ---------------------------------------------------------------- reading printed dates and times

_TWO_DEFAULTS = (datetime(1900, 1, 1, 0, 0), datetime(1904, 2, 2, 1, 1))


_DOTTED_CLOCK_RE = re.compile(r"\b(\d{1,2})\.([0-5]\d)\s?(am|pm)\b", re.IGNORECASE)


def _clock_words(text: str) -> str:
    """Clock times as dateutil reads them: '0700 hours' and '22.15hrs' -> '07:00' and '22:15' (it reads
    'hours' as a unit, not a clock time), '2.30pm' -> '2:30pm' (it reads '9.30am' as 09:00, and '2.30pm' not
    at all) and 'noon' -> '12:00' (which it does not read)."""
    text = recognise.CLOCK_HOURS_RE.sub(lambda m: f"{m.group(0)[:2]}:{m.group(0).replace('.', '')[2:4]}", text)
    text = recognise.NOON_RE.sub("12:00", text)
    return _DOTTED_CLOCK_RE.sub(lambda m: f"{m.group(1)}:{m.group(2)}{m.group(3)}", text)


def _parse(words: str, rules: Rules) -> tuple[datetime, set[str]]:
    """dateutil's reading of `words` and the parts it found printed (year, month, day, time): each part
    is read twice with different defaults, and a part that follows the default was not printed."""
    words = _clock_words(" ".join(words.split()))
    try:
        first, second = (date_parser.parse(words, default=d, dayfirst=rules.dayfirst, tzinfos=rules.zones)
                         for d in _TWO_DEFAULTS)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"cannot read {words!r} as a date: {exc}") from None
    printed = {part for part in ("year", "month", "day") if getattr(first, part) == getattr(second, part)}
    if (first.hour, first.minute) == (second.hour, second.minute):
        printed.add("time")
    return first, printed


def _check_weekday(words: str, day: date) -> None:
    found = {w.split()[0] for w in recognise.WEEKDAY_RE.findall(words)}
    if len(found) > 1:
        raise ValueError(f"the words print {len(found)} weekdays ({', '.join(sorted(found))}) for one date")
    if found and (name := found.pop()) != day.strftime("%A"):
        raise ValueError(f"the words print {name}, but {day.isoformat()} is a {day.strftime('%A')}: the printed "
                         "weekday contradicts the printed date")


def _aware(when: datetime, rules: Rules) -> datetime:
    """A clock time with its offset: the zone printed, else the local zone's offset on that date."""
    return when if when.tzinfo else when.replace(tzinfo=ZoneInfo(rules.local_zone))


def offset_text(when: datetime) -> str:
    offset = when.strftime("%z")
    return f"{offset[:3]}:{offset[3:]}"


@dataclass(frozen=True)
class Dateline:
    category: str | None
    day: date
    published: datetime | None  # None when the dateline prints no time: a publication known to the day
    precision: str  # minute or day

    def iso(self) -> str:
        return self.published.isoformat() if self.published else self.day.isoformat()


def parse_dateline(text: str, rules: Rules) -> Dateline:
    """'News • May 24, 2017 20:15 BST' -> News, 2017-05-24T20:15:00+01:00; '27 May 2017' -> no
    category, 2017-05-27 known to the day."""
    flat = " ".join(text.split())
    category, when = None, flat
    for sep in rules.separators:
        if sep in flat:
            category, _, when = (part.strip() for part in flat.partition(sep))
            break
    if not when:
        raise ValueError("the dateline prints no date after its category")
    zones = re.findall(r"\b[A-Z]{2,5}\b", when)
    for zone in zones:
        if zone not in rules.zones:
            raise ValueError(f"dateline time zone {zone!r} is not one of the zones of {RULES_FILE} "
                             f"({rules.zone_names()})")
    if zones and not recognise.TIME_RE.search(when):
        raise ValueError(f"the dateline {when!r} prints a zone but no time")
    read, printed = _parse(when, rules)
    missing = [part for part in ("year", "month", "day") if part not in printed]
    if missing:
        raise ValueError(f"the dateline {when!r} prints no {' or '.join(missing)}: a dateline dates the bulletin")
    _check_weekday(when, read.date())
    if "time" not in printed:
        return Dateline(category or None, read.date(), None, "day")
    return Dateline(category or None, read.date(), _aware(read, rules), "minute")


@dataclass(frozen=True)
class When:
    """A date read from words: its day, clock time and offset when printed, its precision, the part of
    the day, the last day of a period, whether the words state it, and the rule that read it."""

    day: date
    precision: str  # minute, part_of_day, day, period
    basis: str  # stated or inferred
    rule: str
    clock: time | None = None
    utc_offset: str | None = None
    part_of_day: str | None = None
    last_day: date | None = None

    def columns(self) -> dict:
        return dict(date=self.day.isoformat(), time=self.clock.strftime("%H:%M:%S") if self.clock else None,
                    utc_offset=self.utc_offset, part_of_day=self.part_of_day,
                    date_end=self.last_day.isoformat() if self.last_day else None, date_precision=self.precision,
                    date_basis=self.basis, date_rule=self.rule)


def printed_date(text: str) -> str | None:
    """The first calendar date the words print ('30th May 2017', 'May 24, 2017', '23 May', '30/05/2017')."""
    found = recognise.DATE_RE.search(text)
    return found.group(0) if found else None


def read_printed(text: str, published: date, rules: Rules) -> When:
    """The one date the words print, with the clock time when one is printed: 'until at least 0700 hours
    on Tuesday 30th May 2017' -> 2017-05-30 07:00 +01:00 (the local zone's offset that day). A date
    printed without its year takes the publication's year (inferred, by that rule)."""
    dates = [m.group(0) for m in recognise.DATE_RE.finditer(text)]
    if len(dates) != 1:
        raise ValueError(f"`date: printed` reads the one calendar date the words print; they print {len(dates)}"
                         + (f" ({', '.join(map(repr, dates))})" if dates else ""))
    times = [m.group(0) for m in recognise.TIME_RE.finditer(text)]
    if len(times) > 1:
        raise ValueError(f"the words print {len(times)} clock times ({', '.join(map(repr, times))}) for one date")
    zones = [z for z in re.findall(r"\b[A-Z]{2,5}\b", text) if z in rules.zones]
    words = " ".join([dates[0], *times, *zones[:1]])
    read, printed = _parse(words, rules)
    if not {"month", "day"} <= printed:
        raise ValueError(f"cannot read a day and month from {dates[0]!r}")
    rule = "printed in the words"
    basis = "stated"
    if "year" not in printed:
        read = read.replace(year=published.year)
        basis = "inferred"
        rule = f"day and month printed ({dates[0]!r}); the year is the publication's ({published.year})"
    _check_weekday(text, read.date())
    parts = [w.split()[1] for w in recognise.WEEKDAY_RE.findall(text) if " " in w]
    if times:
        aware = _aware(read, rules)
        return When(read.date(), "minute", basis, rule + (f", at {times[0]!r}" if basis == "stated" else ""),
                    clock=read.time(), utc_offset=offset_text(aware))
    if parts:
        return When(read.date(), "part_of_day", basis, rule, part_of_day=parts[0])
    return When(read.date(), "day", basis, rule)


def resolve_day_phrase(text: str, published: date, forward: bool = False) -> When:
    """A weekday (optionally with a part of day) resolved to the latest such day on or before the
    publication day: 'Tuesday night' said on Wednesday 24 May 2017 is 23 May 2017; of a claim told as
    still to come (`forward`: its modality is one of common.FORWARD_MODALITIES), the next such day on or
    after it: 'on Saturday' said on Thursday 25 May 2017 is 27 May 2017. Words that print their own
    calendar date are never resolved so: the weekday would guess what the words state."""
    printed = printed_date(text)
    if printed:
        raise ValueError(f"the quote prints its date ({printed!r}): a day phrase never resolves words that print "
                         "their date (a weekday resolved to the last one before publication could contradict it); "
                         "use `date: printed`")
    found = recognise.WEEKDAY_RE.findall(text)
    if len(found) != 1:
        raise ValueError(f"expected one weekday phrase in the quote, found {len(found)}")
    phrase = found[0]
    day_name, _, part = phrase.partition(" ")
    index = recognise.WEEKDAYS.index(day_name)
    resolved = published + relativedelta(weekday=dateutil_weekday(index)(+1 if forward else -1))
    which = "next" if forward else "last"
    rule = (f"'{phrase}' resolved to the {which} {day_name} on or {'after' if forward else 'before'} the publication "
            f"date ({published.isoformat()}, a {published.strftime('%A')})"
            + (", the claim being told as still to come" if forward else ""))
    return When(resolved, "part_of_day" if part else "day", "inferred", rule, part_of_day=part or None)


# ---------------------------------------------------------------- relative words and periods


def matches(text: str, rules: Rules) -> list[tuple[int, int, str, dict]]:
    """Every declared relative word or period in `text` (whole words, any case), longest first where
    two overlap."""
    found = []
    for kind, declared in (("relative_days", rules.relative_days), ("periods", rules.periods)):
        for rule in declared:
            pattern = r"(?<![\w’'])" + r"\s+".join(map(re.escape, rule["words"].split())) + r"(?![\w’'])"
            found += [(m.start(), m.end(), kind, rule) for m in re.finditer(pattern, text, re.IGNORECASE)]
    found.sort(key=lambda f: (-(f[1] - f[0]), f[0]))
    kept: list = []
    for f in found:
        if not any(f[0] < k[1] and k[0] < f[1] for k in kept):
            kept.append(f)
    return sorted(kept)


def _weekend(day: date) -> tuple[date, date]:
    """The Saturday and Sunday of `day`'s week when it is a weekend day, else the coming ones."""
    saturday = day - timedelta(days=1) if day.weekday() == 6 else day + timedelta(days=(5 - day.weekday()) % 7)
    return saturday, saturday + timedelta(days=1)


def _past_weekend(day: date) -> tuple[date, date]:
    """The Saturday and Sunday of `day`'s week when it is a weekend day, else the ones just past."""
    if day.weekday() >= 5:
        return _weekend(day)
    saturday = day - timedelta(days=day.weekday() + 2)
    return saturday, saturday + timedelta(days=1)


def _bank_holiday_weekend(day: date, calendar: dict, past: bool = False) -> tuple[date, date, str]:
    """The Saturday to the bank holiday Monday of the first such weekend ending on or after `day`, or
    (`past`) of the last one begun on or before it."""
    import holidays  # only the build reads bank holidays

    found = holidays.country_holidays(calendar["country"], subdiv=calendar.get("subdivision"),
                                      years=[day.year - 1, day.year, day.year + 1])
    if past:
        mondays = sorted(d for d in found if d - timedelta(days=2) <= day and d.weekday() == 0)[-1:]
    else:
        mondays = sorted(d for d in found if d >= day and d.weekday() == 0)
    if not mondays:
        raise ValueError(f"no bank holiday Monday {'begun on or before' if past else 'on or after'} "
                         f"{day.isoformat()} in the calendar")
    monday = mondays[0]
    return monday - timedelta(days=2), monday, found.get(monday)


def read_relative(text: str, published: date, rules: Rules, past: bool = False) -> When:
    """The one declared relative word or period in the words, counted from the publication day:
    'overnight' in a bulletin of 27 May is the night of 26 May; 'the bank holiday weekend' is the
    Saturday before the next bank holiday Monday to that Monday. 'The weekend' of an event told as done
    (`past`: its modality is one of common.PAST_MODALITIES) in a weekday's bulletin is the one just past
    ('arrested over the weekend', said on a Tuesday), else the weekend of the publication day's week or
    the coming one."""
    printed = printed_date(text)
    if printed:
        raise ValueError(f"the quote prints its date ({printed!r}): use `date: printed`, not a relative rule")
    found = matches(text, rules)
    if len({f[3]["words"] for f in found}) != 1:
        declared = [r["words"] for r in rules.relative_days + rules.periods]
        raise ValueError((f"the words hold {len(found)} relative words or periods of {RULES_FILE} "
                          f"({', '.join(repr(text[f[0]:f[1]]) for f in found)}): `date: relative` reads one"
                          if found else f"no relative word or period of {RULES_FILE} is in the words (declared: "
                          f"{', '.join(declared)}); declare it there, or code the date another way"))
    start, end, kind, rule = found[0]
    said = f"{text[start:end]!r} ({RULES_FILE} {kind}: {rule['words']!r})"
    on = f"the publication day ({published.isoformat()}, a {published.strftime('%A')})"
    if kind == "relative_days":
        day = published + timedelta(days=rule["days"])
        when = "that day" if rule["days"] == 0 else (f"{abs(rule['days'])} day(s) " +
                                                      ("after" if rule["days"] > 0 else "before"))
        part = rule.get("part_of_day")
        return When(day, "part_of_day" if part else "day", "inferred",
                    f"{said}: {when} {on}" + (f", {part}" if part else ""), part_of_day=part)
    first, last = rule["from"], rule.get("to")
    if first == "bank_holiday_weekend":
        saturday, monday, name = _bank_holiday_weekend(published, rules.bank_holidays, past)
        calendar = f"by the calendar of python-holidays ({rules.bank_holidays['country']})"
        if past:
            return When(saturday, "period", "inferred", f"{said}: the last bank holiday weekend begun on or before "
                        f"{on}, the event being told as done: the Saturday before {name} ({monday.isoformat()}) to "
                        f"that Monday, {calendar}", last_day=monday)
        return When(saturday, "period", "inferred", f"{said}: the Saturday before the first bank holiday Monday on "
                    f"or after {on} ({name}, {monday.isoformat()}) to that Monday, {calendar}", last_day=monday)
    if first == "weekend" and past and published.weekday() < 5:
        saturday, sunday = _past_weekend(published)
        return When(saturday, "period", "inferred", f"{said}: the Saturday and Sunday just past before {on}, the "
                    "event being told as done", last_day=sunday)
    if first == "weekend":
        saturday, sunday = _weekend(published)
        return When(saturday, "period", "inferred", f"{said}: the Saturday and Sunday of the weekend of {on}",
                    last_day=sunday)
    day = published + timedelta(days=first)
    if last is None:
        return When(day, "period", "inferred", f"{said}: an open period from {first} day(s) after {on}; its last "
                    "day is not given")
    return When(day, "period", "inferred", f"{said}: from {first} to {last} day(s) after {on}",
                last_day=published + timedelta(days=last))
