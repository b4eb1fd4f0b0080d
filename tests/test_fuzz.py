"""Property-based mutations of the hand-written inputs and the published tables
(tests/fuzz_inputs.py): every case is either rejected with errors naming the
mutated file, with no traceback and no published file changed, or accepted with
the very same tables.

`make test` runs a fixed seed and FUZZ_EXAMPLES (default 30) cases; `make fuzz`
runs 2,000; both print the figures at the end of the run (conftest.pytest_terminal_summary).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

import fuzz_inputs

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))


def test_mutated_inputs_are_rejected_cleanly_or_change_nothing(tmp_path_factory, record_property):
    workspace = fuzz_inputs.Workspace(tmp_path_factory.mktemp("fuzz") / "package")
    tally = fuzz_inputs.TALLY
    start = tally.counts["cases"]

    @seed(20171024)
    @settings(max_examples=EXAMPLES, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def case(data):
        fuzz_inputs.run_case(workspace, data.draw)

    case()
    for line in tally.report():  # printed at the end of the run (conftest.py)
        record_property("summary_line", line)
    assert tally.counts["cases"] - start >= EXAMPLES
    assert tally.bad() == 0, "\n".join(tally.report())


def test_the_oracle_tells_each_outcome_apart(tmp_path, monkeypatch):
    """The classification itself can fail: a crash, a wrong acceptance and an error naming another
    file are each counted as such (with the build made to misbehave on purpose)."""
    from scripts.claims import extract
    from scripts.checks import validate
    from scripts.common import BuildError

    monkeypatch.setattr(fuzz_inputs, "TALLY", fuzz_inputs.Tally())  # kept apart from the real run's figures
    workspace = fuzz_inputs.Workspace(tmp_path / "package")
    rel, text = fuzz_inputs.ANNOTATIONS, workspace.texts[fuzz_inputs.ANNOTATIONS]
    events = workspace.originals["data/events.csv"]

    def yaml_case(new):
        return fuzz_inputs.run_yaml_case(workspace, rel, "oracle check", new)

    def csv_case(new):
        return fuzz_inputs.run_csv_case(workspace, "data/events.csv", "oracle check", new, refresh=True)

    assert yaml_case(text) == "harmless acceptance"
    assert yaml_case(text.replace("confidential: true", "confidential: maybe")) == "clean rejection"
    assert csv_case(events.replace(b"Operation Temperer activated", b"Operation Temperer launched")) == "clean rejection"

    def elsewhere(root):
        raise BuildError(root / "data" / "evidence.csv", "row 3: something")

    with monkeypatch.context() as misbehaving:
        misbehaving.setattr(validate, "validate", lambda root: [])
        assert csv_case(events + b"x,y\n") == "wrong input accepted"
        misbehaving.setattr(extract, "build", lambda root: {}["rows"])
        assert yaml_case(text) == "crash"
        misbehaving.setattr(extract, "build", elsewhere)
        assert yaml_case(text) == "error not naming the curator's file"
    assert workspace.published() == {name: workspace.originals[name] for name in workspace.published_names}
