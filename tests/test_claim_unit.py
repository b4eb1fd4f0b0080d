"""The unit of analysis refuses the slips that would make a row other than one claim: each stops the
build with the curator's file and line, and a failing build publishes nothing (the published package
of a copy is unchanged, byte for byte)."""

from __future__ import annotations

import re

import pytest
from conftest import FIXTURES, ROOT, add_bulletin, copy_package, failing_publish, published_files

ANNOTATIONS = "data/raw/met-2017-05-24-additional-armed-officers/annotations.yaml"


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    """One copy of the published package; each case edits its annotations and restores them."""
    return copy_package(tmp_path_factory.mktemp("unit") / "package")


# (what, old text, new text, the line the error names relative to the edit's first line, words of the error)
SLIPS = [
    ("an attribute coded as a claim: a qualifier of an aim",
     "    value: across_the_uk\n    of: officers-freed-up\n", "    value: across_the_uk\n    of: carry-out-patrols\n",
     1, "is not a claim of this bulletin"),
    ("two claims with the same words",
     '    quote: "The extra officers add to a wider policing plan"\n    measure_type: policing_plan\n',
     '    quote: "which sees increased patrolling at crowded places, iconic sites and transport hubs"\n'
     "    measure_type: policing_plan\n", None, "two claims with the same words"),
    ("a claim without modality",
     "    measure_type: policing_plan\n    modality: in_effect\n", "    measure_type: policing_plan\n", -2,
     "modality"),
    ("a modality outside the scale",
     "    measure_type: policing_plan\n    modality: in_effect\n", "    measure_type: policing_plan\n    modality: likely\n",
     1, "expected one of in_effect, under_way"),
    ("a claim dated by a link without its basis",
     "    event: officers-freed-up\n    event_basis: stated\n", "    event: officers-freed-up\n", None,
     "event_basis is given with the link"),
    ("a giver typed where the request rule codes it",
     "    action_type: look_out\n    wording: imperative\n",
     "    action_type: look_out\n    wording: imperative\n    actor: counter-terrorism-policing\n"
     "    actor_rule: \"he heads it\"\n", 2, "coded by the request rule"),
    ("a first person no party holds and no excuse names",
     '  - quote: "everything we can"\n', '  - quote: "everything they can"\n', None, "first-person"),
    ("a connective printed twice, excused without saying where",
     '  - quote: "and"\n    occurrence: 9\n', '  - quote: "and"\n', 0, "times in source.txt as whole words; say which with `occurrence: <n>`"),
    ("a connective excused at an occurrence the text does not have",
     '  - quote: "and"\n    occurrence: 9\n', '  - quote: "and"\n    occurrence: 99\n', 1, "occurrence 99 of 'and'"),
    ("an attribute's words outside its claim",
     '    quote: "extra"\n    words: "extra"\n', '    quote: "iconic"\n    words: "iconic"\n', 0,
     "inside the words of claim"),
]


@pytest.mark.parametrize("what, old, new, offset, words", SLIPS, ids=[s[0] for s in SLIPS])
def test_a_slip_in_the_unit_stops_the_build_at_its_line(package, what, old, new, offset, words):
    message, moved = failing_build(package, [(old, new)])  # the curator's file and line
    assert words in message, message
    if offset is not None:
        assert moved == offset, message


def test_the_copy_builds_when_nothing_is_slipped(package, clean_build):
    """The cases above fail for their slip alone: the inputs as they are build (the run's one build of
    them, conftest's clean_build, publishes what is committed), and the copy the cases edit holds those
    inputs, each case's edit undone."""
    assert published_files(clean_build) == published_files(ROOT)
    inputs = [p.relative_to(package) for folder in ("data/raw", "schema") for p in (package / folder).rglob("*")
              if p.is_file()]
    assert ANNOTATIONS in {p.as_posix() for p in inputs}
    assert [p for p in inputs if (package / p).read_bytes() != (ROOT / p).read_bytes()] == []


# ---------------------------------------------------------------- dates the words and the order decide

FIXTURE = FIXTURES / "met-2017-10-14-fixture-railway-patrols"


def failing_build(root, edits, path=ANNOTATIONS) -> tuple[str, int]:
    """The error the build prints for (old, new) edits to `path` (conftest's failing_publish), and where it
    points in annotations.yaml relative to the first edit's line."""
    message, line = failing_publish(root, path, edits)
    found = re.search(r"annotations\.yaml:(\d+):", message)
    assert found, message
    return message, int(found.group(1)) - line


def test_a_day_phrase_never_resolves_words_that_print_their_date(package):
    message, _ = failing_build(package, [("    date: dateline\n", "    date: day_phrase\n")])
    assert "the quote prints its date ('May 24, 2017')" in message, message


def test_a_past_event_is_never_dated_after_the_bulletin(package):
    """'one day into' counted from the publication gives 25 May: an event told as done cannot be later
    than the bulletin that reports it."""
    message, _ = failing_build(package, [
        ("    sequence: 4\n    sequence_basis: stated\n    event_type: officers_freed_up\n",
         "    sequence: 5\n    sequence_basis: stated\n    event_type: officers_freed_up\n"),
        ("    date: days_into\n    anchor: temperer-activated\n", "    date: days_into\n    anchor: bulletin-published\n"),
        ("    sequence: 5\n    sequence_basis: inferred\n    sequence_rule: \"a bulletin is published",
         "    sequence: 4\n    sequence_basis: inferred\n    sequence_rule: \"a bulletin is published")])
    assert "2017-05-25 is after the bulletin's publication (2017-05-24)" in message, message


def test_a_date_that_contradicts_the_order_of_events_stops_the_build(tmp_path):
    """In the fixture bulletin, the lowering (Friday night, 13 October) ordered after the publication (14 October)."""
    root = copy_package(tmp_path / "package")
    add_bulletin(root, FIXTURE)
    path = f"data/raw/{FIXTURE.name}/annotations.yaml"
    message, _ = failing_build(root, [
        ("  - id: threat-level-lowered\n    sequence: 1\n", "  - id: threat-level-lowered\n    sequence: 4\n"),
        ("  - id: officers-freed-up\n    sequence: 2\n", "  - id: officers-freed-up\n    sequence: 1\n"),
        ("  - id: patrols-continue\n    sequence: 3\n", "  - id: patrols-continue\n    sequence: 2\n"),
        ("  - id: bulletin-published\n    sequence: 4\n", "  - id: bulletin-published\n    sequence: 3\n")], path)
    assert "2017-10-13 contradicts the order of events: sequence 4 comes after" in message, message
    assert FIXTURE.name in message
