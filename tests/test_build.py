"""The build as a user runs it: reproducible, incremental, and loud about bad input."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import BULLETIN, ROOT, build_package, make, published_files, run_step


def test_rebuild_is_deterministic_and_matches_committed_data(inputs, clean_build):
    """Two builds of the same inputs, in two folders (this test's and the run's shared clean build), give
    the same bytes, and those are the committed ones."""
    build_package(inputs)
    first = published_files(inputs)
    assert published_files(clean_build) == first, "two builds of the same inputs differ"
    committed = published_files(ROOT)
    stale = [name for name in first if first[name] != committed.get(name)]
    assert not stale, f"committed files are stale (run `make`): {stale}"


def test_second_make_does_nothing(repo_copy):
    make(repo_copy)
    assert "Nothing to be done" in make(repo_copy)


def test_editing_an_annotation_rebuilds_only_what_depends_on_it(repo_copy):
    # (A first `make validate` with no stamp at all validates: .ci/run does that on a fresh clone.)
    (repo_copy / "data" / "raw" / BULLETIN / "annotations.yaml").touch()
    ran = make(repo_copy, "validate")
    assert "scripts.outputs.publish" in ran and "pip install" not in ran
    assert "-m scripts.checks.validate" not in ran, "the files publish just validated were validated again"
    assert "Nothing to be done" in make(repo_copy, "validate")
    (repo_copy / "data" / "personnel.csv").touch()  # as if edited by hand
    assert "-m scripts.checks.validate" in make(repo_copy, "validate")
    assert "Nothing to be done" in make(repo_copy, "validate")
    (repo_copy / "README.md").write_text("edited")
    assert "Nothing to be done" in make(repo_copy, "validate")


def annotations(root: Path) -> Path:
    return root / "data" / "raw" / BULLETIN / "annotations.yaml"


def replace_in(path: Path, old: str, new: str) -> int:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text {old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return text[: text.index(old)].count("\n") + 1


def expect_failure(root: Path, *needles: str) -> str:
    result = run_step("claims.extract", root)
    assert result.returncode != 0, "the build accepted bad input"
    for needle in needles:
        assert needle in result.stderr, f"{needle!r} not in: {result.stderr}"
    assert not (root / "data" / "sources.csv").exists(), "a failed build published a table"
    return result.stderr


def test_quote_not_in_text(inputs):
    line = replace_in(annotations(inputs), 'quote: "Operation Temperer was activated on Tuesday night"',
                      'quote: "Operation Temperer was activated on Monday night"')
    expect_failure(inputs, f"annotations.yaml:{line}:", "quote not found in source.txt", "Monday night")


def test_quote_found_twice(inputs):
    line = replace_in(annotations(inputs), 'quote: "At this time there are no plans for military to patrol the streets or other public places."',
                      'quote: "military"')
    expect_failure(inputs, f"annotations.yaml:{line}:", "found more than once")


def test_changed_source(inputs):
    source = inputs / "data" / "raw" / BULLETIN / "source.txt"
    source.write_bytes(source.read_bytes().replace(b"3,800", b"4,800"))
    expect_failure(inputs, "source.txt", "archived text changed", "SHA-256")


def test_misspelt_annotation_key(inputs):
    line = replace_in(annotations(inputs), "    force: military", "    forse: military")
    expect_failure(inputs, f"annotations.yaml:{line}: personnel[1].forse: unknown key (did you mean 'force'?)")


def test_metadata_disagreeing_with_the_text(inputs):
    path = inputs / "data" / "raw" / BULLETIN / "metadata.yaml"
    line = replace_in(path, '"2017-05-24T20:15:00+01:00"', '"2017-05-24T21:15:00+01:00"')
    expect_failure(inputs, f"metadata.yaml:{line}: published: '2017-05-24T21:15:00+01:00' disagrees")


@pytest.mark.parametrize("quote", ['"in confidence"', '"the Joint Terrorism Analysis Centre"'])
def test_quote_without_the_value_it_must_state(inputs, quote):
    replace_in(annotations(inputs), '"call us in confidence on 0800 789 321"', quote)
    expect_failure(inputs, "annotations.yaml:", "phone number")


def test_unquoted_comma_in_a_schema_description_is_an_error(inputs):
    """YAML reads `description: a, b}` as a description plus a key named 'b': the build must say so."""
    replace_in(inputs / "schema" / "package.yaml", 'description: "Where the source can be read, if a stable address is known."',
               'description: Where the source can be read, if a stable address is known.')
    line = (inputs / "schema" / "package.yaml").read_text(encoding="utf-8").split("\n").index(
        '      - {name: url, type: string, description: Where the source can be read, if a stable address is known.}') + 1
    result = run_step("outputs.publish", inputs)
    assert result.returncode != 0
    assert re.search(rf"schema/package.yaml:{line}: resources\[0\] \(sources\)\.fields\[\d+\]\.if a stable address is "
                     r"known\.: unknown key", result.stderr), result.stderr
    assert "a description that contains a comma or a colon is quoted" in result.stderr
