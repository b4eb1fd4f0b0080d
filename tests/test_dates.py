"""Dates of every shape, read by the rules of schema/dates.yaml (scripts/claims/dates.py): datelines of
other forms, printed dates and clock times, weekday phrases, relative words and periods; and the rules
file itself checked like every input, a slip an error at its line."""

from __future__ import annotations

import re
from datetime import date, time
from pathlib import Path

import pytest
from conftest import (FIXTURES, ROOT, SHARED_FIXTURES, add_bulletin, copy_inputs, copy_package, failing_publish,
                      read_table)

from scripts.claims import dates
from scripts.common import BuildError, load_yaml
from scripts.inputs.yaml_input import InputErrors

RULES = dates.load_rules(ROOT)
PUBLISHED = date(2017, 5, 27)  # a Saturday


@pytest.mark.parametrize("dateline, category, iso, precision", [
    ("News \u00a0 • \u00a0 May 24, 2017\u00a020:15\u00a0BST", "News", "2017-05-24T20:15:00+01:00", "minute"),
    ("27 May 2017", None, "2017-05-27", "day"),
    ("Saturday 27 May 2017", None, "2017-05-27", "day"),
    ("Saturday 27 May 2017 09:30", None, "2017-05-27T09:30:00+01:00", "minute"),  # no zone: Europe/London
    ("Press release | 27/05/2017 09:30 GMT", "Press release", "2017-05-27T09:30:00+00:00", "minute"),
    ("Updates • 3 January 2018 1730 hours", "Updates", "2018-01-03T17:30:00+00:00", "minute"),  # winter: GMT
    ("Thursday 25 May 2017, 2.30pm", None, "2017-05-25T14:30:00+01:00", "minute"),  # a dotted clock time
    ("News | 24 May 2017 at 9.15am", "News", "2017-05-24T09:15:00+01:00", "minute"),
    ("News • 24 May 2017 22.15hrs", "News", "2017-05-24T22:15:00+01:00", "minute"),
])
def test_a_dateline_of_any_shape_dates_the_bulletin(dateline, category, iso, precision):
    read = dates.parse_dateline(dateline, RULES)
    assert (read.category, read.iso(), read.precision) == (category, iso, precision)
    assert (read.published is None) == (precision == "day")  # a date alone: no invented time


@pytest.mark.parametrize("dateline, words", [
    ("News • May 2017", "prints no day"),
    ("News • Tuesday 27 May 2017", "the printed weekday contradicts the printed date"),
    ("News • 27 May 2017 09:30 CEST", "is not one of the zones of schema/dates.yaml"),
    ("News • 27 May 2017 GMT", "prints a zone but no time"),
    ("News •", "prints no date"),
])
def test_a_dateline_that_cannot_date_the_bulletin_says_why(dateline, words):
    with pytest.raises(ValueError, match=words):
        dates.parse_dateline(dateline, RULES)


@pytest.mark.parametrize("words, day, clock, offset, precision, basis", [
    ("policing will remain in place until at least 0700 hours on Tuesday 30th May 2017",
     date(2017, 5, 30), time(7, 0), "+01:00", "minute", "stated"),
    ("at around 10pm on Tuesday 23 May", date(2017, 5, 23), time(22, 0), "+01:00", "minute", "inferred"),
    # "9.30am" was read as 09:00 and "2.30pm" not at all.
    ("at 9.30am on Tuesday 23 May", date(2017, 5, 23), time(9, 30), "+01:00", "minute", "inferred"),
    ("at 2.30pm on 23 May 2017", date(2017, 5, 23), time(14, 30), "+01:00", "minute", "stated"),
    ("at 22.15hrs on 23 May 2017", date(2017, 5, 23), time(22, 15), "+01:00", "minute", "stated"),
    ("at noon on Tuesday 23 May", date(2017, 5, 23), time(12, 0), "+01:00", "minute", "inferred"),
    # A dotted time without its unit may be a decimal, and midnight may start or end its day: the day alone.
    ("at 10.30 on 23 May 2017", date(2017, 5, 23), None, None, "day", "stated"),
    ("shortly before midnight on 23 May 2017", date(2017, 5, 23), None, None, "day", "stated"),
    ("on May 24, 2017", date(2017, 5, 24), None, None, "day", "stated"),
    ("from 30/05/2017", date(2017, 5, 30), None, None, "day", "stated"),
    ("on Friday 26 May 2017 at 18:00 GMT", date(2017, 5, 26), time(18, 0), "+00:00", "minute", "stated"),
])
def test_a_printed_date_is_read_with_its_clock_time(words, day, clock, offset, precision, basis):
    read = dates.read_printed(words, PUBLISHED, RULES)
    assert (read.day, read.clock, read.utc_offset, read.precision, read.basis) == (day, clock, offset, precision, basis)
    if basis == "inferred":
        assert "the year is the publication's (2017)" in read.rule


@pytest.mark.parametrize("words, reason", [
    ("until 0700 hours on Wednesday 30th May 2017", "print Wednesday, but 2017-05-30 is a Tuesday"),
    ("from 29 May 2017 to 30 May 2017", "they print 2"),
    ("until Tuesday", "they print 0"),
    ("at 0700 hours or 0900 hours on 30 May 2017", "2 clock times"),
])
def test_a_printed_date_that_does_not_say_one_date_is_an_error(words, reason):
    with pytest.raises(ValueError, match=reason):
        dates.read_printed(words, PUBLISHED, RULES)


def test_a_day_phrase_is_the_last_such_day_and_never_reads_a_printed_date():
    read = dates.resolve_day_phrase("Operation Temperer was activated on Tuesday night", date(2017, 5, 24))
    assert (read.day, read.part_of_day, read.precision, read.basis) == (date(2017, 5, 23), "night", "part_of_day",
                                                                         "inferred")
    with pytest.raises(ValueError, match="prints its date"):
        dates.resolve_day_phrase("until 0700 hours on Tuesday 30th May 2017", PUBLISHED)


@pytest.mark.parametrize("published, forward, day", [
    (date(2017, 5, 25), True, date(2017, 5, 27)),   # Thursday: the coming Saturday
    (date(2017, 5, 25), False, date(2017, 5, 20)),  # told as done: the last one
    (date(2017, 5, 27), True, date(2017, 5, 27)),   # on a Saturday, that day
    (date(2017, 5, 27), False, date(2017, 5, 27)),
])
def test_a_day_phrase_of_a_claim_still_to_come_is_the_next_such_day(published, forward, day):
    read = dates.resolve_day_phrase("Armed officers will patrol the final on Saturday", published, forward)
    assert (read.day, read.precision, read.basis) == (day, "day", "inferred")
    assert ("the next Saturday on or after" if forward else "the last Saturday on or before") in read.rule


def reworded_fixture(root: Path, name: str, old: str, new: str, entry_id: str, coding: dict[str, str]) -> Path:
    """The fixture bulletin `name` added to the inputs at `root`, its words `old` reworded `new` in its text
    and in its quotes (the text's hash recomputed in its metadata), and the keys `coding` set on the event
    `entry_id`. Returns the bulletin's annotations file."""
    import hashlib
    folder = add_bulletin(root, FIXTURES / name)
    for file in ("source.txt", "annotations.yaml"):
        path = folder / file
        assert old in path.read_text(encoding="utf-8"), (file, old)
        path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    meta = folder / "metadata.yaml"
    digest = hashlib.sha256((folder / "source.txt").read_bytes()).hexdigest()
    meta.write_text(re.sub(r"sha256: [0-9a-f]{64}", f"sha256: {digest}", meta.read_text(encoding="utf-8")),
                    encoding="utf-8")
    annotations = folder / "annotations.yaml"
    text = annotations.read_text(encoding="utf-8")
    start = text.index(f"  - id: {entry_id}\n")
    end = text.find("\n  - id: ", start + 1)
    end = len(text) if end < 0 else end + 1
    entry = text[start:end]
    for key, value in coding.items():
        entry, changed = re.subn(rf"^    {key}: .*$", f"    {key}: {value}", entry, count=1, flags=re.M)
        assert changed, (entry_id, key)
    annotations.write_text(text[:start] + entry + text[end:], encoding="utf-8")
    return annotations


def test_a_planned_event_dated_by_its_weekday_is_dated_ahead_and_the_same_words_told_as_done_stop_the_build(tmp_path):
    """The Police Scotland fixture's planned patrols, with "on Saturday" for the printed "Saturday 27 May":
    told as future they are dated 27 May, after the Thursday's publication; told as done (in_effect) they
    would be the Saturday before, 20 May, before the events they follow, and the build says so at the entry."""
    from scripts.claims import extract
    root = copy_inputs(tmp_path / "package")
    args = (root, "scot-2017-05-25-fixture-weekend-events", "Final on Saturday 27 May.", "Final on Saturday.",
            "patrols-at-hampden-park")
    reworded_fixture(*args, {"date": "day_phrase"})
    (row,) = [r for r in extract.build(root)["rows"]["events"]
              if r["source_id"] == "scot-2017-05-25-fixture" and r["event_id"].endswith("-patrols-at-hampden-park")]
    assert (row["date"], row["date_basis"]) == ("2017-05-27", "inferred"), row
    assert "the next Saturday on or after the publication date (2017-05-25, a Thursday)" in row["date_rule"]
    root = copy_inputs(tmp_path / "again")
    reworded_fixture(root, *args[1:], {"date": "day_phrase", "modality": "in_effect"})
    with pytest.raises(BuildError) as caught:
        extract.build(root)
    message = str(caught.value)
    assert "annotations.yaml" in message and "contradicts the order of events" in message, message


def test_arrests_over_the_weekend_in_a_tuesday_bulletin_are_dated_the_weekend_just_past(tmp_path):
    """The Thames Valley fixture (Tuesday 30 May 2017): the arrests "over the weekend", told as done, are read by
    the declared period 'the weekend' as 27 to 28 May, and the lowering of the level "On Saturday" as 27 May."""
    from scripts.claims import extract
    root = copy_inputs(tmp_path / "package")
    add_bulletin(root, FIXTURES / "tvp-2017-05-30-fixture-military-withdrawn")
    events = {r["event_id"].split("-fixture-")[-1]: r for r in extract.build(root)["rows"]["events"]
              if r["source_id"] == "tvp-2017-05-30-fixture"}
    arrests, lowered = events["arrests-made"], events["threat-level-lowered"]
    assert (arrests["date"], arrests["date_end"], arrests["date_precision"], arrests["date_basis"]) == (
        "2017-05-27", "2017-05-28", "period", "inferred"), arrests
    assert "the Saturday and Sunday just past" in arrests["date_rule"], arrests["date_rule"]
    assert (lowered["date"], lowered["date_precision"]) == ("2017-05-27", "day"), lowered


@pytest.mark.parametrize("words, day, last, precision, part", [
    ("Two men were arrested overnight", date(2017, 5, 26), None, "part_of_day", "night"),
    ("searches carried out today", date(2017, 5, 27), None, "day", None),
    ("An arrest was made last night", date(2017, 5, 26), None, "part_of_day", "night"),  # longest words win
    ("patrols yesterday", date(2017, 5, 26), None, "day", None),
    ("over the bank holiday weekend", date(2017, 5, 27), date(2017, 5, 29), "period", None),
    ("events this weekend", date(2017, 5, 27), date(2017, 5, 28), "period", None),
    ("in the coming days", date(2017, 5, 27), None, "period", None),
])
def test_relative_words_and_periods_are_read_by_the_declared_rules(words, day, last, precision, part):
    read = dates.read_relative(words, PUBLISHED, RULES)
    assert (read.day, read.last_day, read.precision, read.part_of_day, read.basis) == (day, last, precision, part,
                                                                                        "inferred")
    assert "schema/dates.yaml" in read.rule


def test_the_bank_holiday_weekend_follows_the_calendar():
    # Published on Wednesday 24 May 2017: the Spring bank holiday is Monday 29 May.
    read = dates.read_relative("the bank holiday weekend", date(2017, 5, 24), RULES)
    assert (read.day, read.last_day) == (date(2017, 5, 27), date(2017, 5, 29)) and "Spring Bank Holiday" in read.rule
    # Published in August 2017: the Late Summer bank holiday, Monday 28 August.
    read = dates.read_relative("the bank holiday weekend", date(2017, 8, 21), RULES)
    assert (read.day, read.last_day) == (date(2017, 8, 26), date(2017, 8, 28))


@pytest.mark.parametrize("words, published, past, first, last", [
    ("Three men were arrested over the weekend", date(2017, 5, 30), True, date(2017, 5, 27), date(2017, 5, 28)),
    ("Patrols will run over the weekend", date(2017, 5, 30), False, date(2017, 6, 3), date(2017, 6, 4)),
    ("arrested at the weekend", date(2017, 5, 28), True, date(2017, 5, 27), date(2017, 5, 28)),  # on a Sunday: this one
    ("arrests over the bank holiday weekend", date(2017, 5, 30), True, date(2017, 5, 27), date(2017, 5, 29)),
    ("arrests over the bank holiday weekend", date(2017, 5, 28), True, date(2017, 5, 27), date(2017, 5, 29)),
    ("patrols over the bank holiday weekend", date(2017, 5, 30), False, date(2017, 8, 26), date(2017, 8, 28)),
])
def test_a_weekend_of_an_event_told_as_done_is_the_one_just_past(words, published, past, first, last):
    """The same declared words ('the weekend', 'the bank holiday weekend') of an event told as done
    (in_effect, under_way) are the weekend just past, of one told as to come the coming one, each with
    its rule written out."""
    read = dates.read_relative(words, published, RULES, past)
    assert (read.day, read.last_day, read.precision, read.basis) == (first, last, "period", "inferred")
    # (On a weekend day, that weekend is the one just past and the one to come alike.)
    just_past = past and ("bank holiday" in words or published.weekday() < 5)
    assert ("the event being told as done" in read.rule) == just_past, read.rule


@pytest.mark.parametrize("words, reason", [
    ("arrests on Saturday", "no relative word or period of schema/dates.yaml is in the words"),
    ("arrests today and yesterday", "hold 2 relative words"),
    ("arrests today, 27 May 2017", "use `date: printed`"),
])
def test_relative_words_that_are_not_one_declared_rule_are_an_error(words, reason):
    with pytest.raises(ValueError, match=reason):
        dates.read_relative(words, PUBLISHED, RULES)


@pytest.mark.parametrize("old, new, words", [
    ("  BST: \"+01:00\"\n", "  BST: \"+1\"\n", "time_zones.BST"),
    ("local_zone: Europe/London\n", "local_zone: Europe/Londres\n", "is not a time zone of the IANA database"),
    ("  - {words: tomorrow, days: 1}\n", "  - {words: tomorrow, days: 1}\n  - {words: today, days: 1}\n",
     "'today' is declared twice"),
    ("  - {words: the coming days, from: 0}\n", "  - {words: the coming days, from: 3, to: 1}\n",
     "`to` (1) is before `from` (3)"),
    ("  - {words: tonight, days: 0, part_of_day: night}\n", "  - {words: tonight, days: 0, part_of_day: midnight}\n",
     "relative_days"),
    ("dayfirst: true\n", "dayfirst: yes\n", "dayfirst"),
])
def test_a_slip_in_the_date_rules_is_an_error_at_its_line(tmp_path, old, new, words):
    (tmp_path / "schema").mkdir()
    text = (ROOT / dates.RULES_FILE).read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    slipped = text.replace(old, new)
    # The line of the slip: the first line that differs.
    line = next(n for n, (a, b) in enumerate(zip(text.splitlines(), slipped.splitlines()), 1) if a != b)
    (tmp_path / dates.RULES_FILE).write_text(slipped, encoding="utf-8")
    with pytest.raises((BuildError, InputErrors)) as caught:
        dates.load_rules(tmp_path)
    message = str(caught.value)
    assert words in message and "schema/dates.yaml" in message, message
    assert f"dates.yaml:{line}" in message, message


def test_the_rules_a_curator_reads_are_the_rules_the_build_applies():
    """Every declared relative word and period reads back as itself (no rule shadows another)."""
    for rule in RULES.relative_days + RULES.periods:
        read = dates.read_relative(f"it happened {rule['words']}", PUBLISHED, RULES)
        assert repr(rule["words"]) in read.rule, (rule, read.rule)


# ---------------------------------------------------------------- a bulletin of another shape, built

FIXTURE = FIXTURES / "met-2017-05-27-fixture-bank-holiday"


@pytest.fixture(scope="module")
def with_dates_fixture(fixtures_build):
    """The package's inputs plus the fixture bulletin whose dateline is a date alone, built (with the other
    fixtures the run builds with it, conftest's fixtures_build): only read."""
    assert FIXTURE.name in SHARED_FIXTURES
    return fixtures_build


@pytest.fixture(scope="module")
def dates_package(tmp_path_factory):
    """The published package copied, with the fixture bulletin's inputs added: the slips below edit it,
    each restoring what it edits, and the build must publish nothing."""
    root = copy_package(tmp_path_factory.mktemp("dates") / "package")
    add_bulletin(root, FIXTURE)
    return root


def test_a_dateline_that_is_a_date_alone_gives_a_publication_known_to_the_day(with_dates_fixture):
    source_id = load_yaml(FIXTURE / "metadata.yaml")["source_id"]
    (source,) = [s for s in read_table("sources", with_dates_fixture) if s["source_id"] == source_id]
    assert (source["published"], source["published_date"], source["published_precision"], source["category"]) == \
        ("", "2017-05-27", "day", "")
    (published,) = [e for e in read_table("events", with_dates_fixture)
                    if e["source_id"] == source_id and e["event_type"] == "bulletin_published"]
    assert (published["date"], published["time"], published["date_precision"]) == ("2017-05-27", "", "day")
    # Every other bulletin keeps its time.
    assert all(s["published"] and s["published_precision"] == "minute"
               for s in read_table("sources", with_dates_fixture)
               if s["source_kind"] == "bulletin" and s["source_id"] != source_id)


def test_each_date_of_the_fixture_is_read_from_its_words_by_its_rule(with_dates_fixture):
    """The words of each event decide its date: read here from the quote, not from a list typed twice."""
    source_id = load_yaml(FIXTURE / "metadata.yaml")["source_id"]
    quotes = {e["evidence_id"]: e["quote"] for e in read_table("evidence", with_dates_fixture)}
    events = [e for e in read_table("events", with_dates_fixture) if e["source_id"] == source_id]
    kinds = {e["date_precision"] for e in events}
    assert {"part_of_day", "day", "period", "minute"} <= kinds, kinds
    for event in events:
        words = quotes[event["evidence_id"]]
        if event["event_type"] == "bulletin_published":
            continue
        read = dates.read_printed(words, PUBLISHED, RULES) if dates.printed_date(words) else \
            dates.read_relative(words, PUBLISHED, RULES)
        assert {k: v or None for k, v in event.items() if k in read.columns()} == read.columns(), event
    later = [e for e in events if e["modality"] == "future"]
    assert later and all(e["date"] >= "2017-05-27" for e in later)  # planned: may be dated after publication


BULLETIN_SLIPS = [
    ("a day phrase on words that print their date", "    date: printed\n", "    date: day_phrase\n",
     "a day phrase never resolves words that print their date"),
    ("a past event dated after publication", "    modality: future\n    date: printed\n",
     "    modality: in_effect\n    date: printed\n", "a past event is never dated after the bulletin"),
    ("a relative rule on words that print their date", "    date: printed\n", "    date: relative\n",
     "use `date: printed`"),
    ("a date that contradicts the order of events", "    sequence: 1\n", "    sequence: 0\n",
     "contradicts the order of events"),
]


@pytest.mark.parametrize("what, old, new, words", BULLETIN_SLIPS, ids=[s[0] for s in BULLETIN_SLIPS])
def test_a_date_the_words_do_not_give_stops_the_build_at_its_line(dates_package, what, old, new, words):
    path = Path("data") / "raw" / FIXTURE.name / "annotations.yaml"
    assert (dates_package / path).read_text(encoding="utf-8").count(old) == 1, old
    edits = [(old, new)]
    if what.startswith("a date that contradicts"):  # the first and the last events swap places
        edits += [("    sequence: 4\n", "    sequence: 1\n"), ("    sequence: 0\n", "    sequence: 4\n")]
    message, line = failing_publish(dates_package, path, edits)
    assert words in message, message
    named = re.search(rf"{re.escape(FIXTURE.name)}/annotations\.yaml:(\d+)", message)
    assert named, message
    assert "contradicts" in words or abs(int(named.group(1)) - line) <= 12, (line, message)
    assert "Traceback" not in message
